-- Policy documents (issue 4): new permissions for the roles that hold them by default.
UPDATE roles SET permissions = permissions || ' policy.edit training.manage'
 WHERE code = 'chief_officer' AND permissions NOT LIKE '%policy.edit%';
UPDATE roles SET permissions = permissions || ' training.manage'
 WHERE code = 'unit_manager' AND permissions NOT LIKE '%training.manage%';
