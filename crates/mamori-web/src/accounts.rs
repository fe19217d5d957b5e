//! Issuing login accounts for a unit's people in one step (the web page and `mamori user
//! issue` share this): each person without an account gets one, named by their staff id, with
//! a one-time password that must be changed at first login. The passwords exist only in the
//! result, for the distribution sheet; the database keeps argon2id hashes.

use crate::credentials::{hash_password_blocking, one_time_password};
use mamori_domain::is_valid_username;
use mamori_domain::UnitId;
use mamori_store::{NewUser, PersonRow, Store, StoreError, WriteTx};

/// An account issued, with its one-time password (shown once).
#[derive(Debug, Clone)]
pub struct Issued {
    /// The person.
    pub person: PersonRow,
    /// The login name.
    pub username: String,
    /// The one-time password.
    pub password: String,
}

/// Why a person got no account.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// The person.
    pub person: PersonRow,
    /// Message id of the reason.
    pub reason: &'static str,
}

/// The login name for a staff id: the id in lower case, when it is a valid username.
pub fn username_for(staff_id: &str) -> Option<String> {
    let name = staff_id.trim().to_ascii_lowercase();
    is_valid_username(&name).then_some(name)
}

/// The people of `units` who have not left and have no account yet, with those who cannot
/// get one and why.
pub async fn candidates(
    store: &Store,
    units: &[UnitId],
    today: time::Date,
) -> Result<(Vec<PersonRow>, Vec<Skipped>), StoreError> {
    let mut eligible = Vec::new();
    let mut skipped = Vec::new();
    let filter = mamori_store::PeopleFilter {
        unit_roots: Some(units.to_vec()),
        query: None,
        ..Default::default()
    };
    for person in store.people_all(&filter).await? {
        if person
            .left_on
            .as_deref()
            .is_some_and(|l| l < today.to_string().as_str())
        {
            continue;
        }
        if store.user_for_person(person.id).await?.is_some() {
            continue;
        }
        match username_for(&person.staff_id) {
            None => skipped.push(Skipped {
                person,
                reason: "issue-skip-username",
            }),
            Some(name) if store.user_by_username(&name).await?.is_some() => skipped.push(Skipped {
                person,
                reason: "issue-skip-taken",
            }),
            Some(_) => eligible.push(person),
        }
    }
    Ok((eligible, skipped))
}

/// Creates the accounts in the caller's transaction (each audited); `progress` is called after
/// each one (password hashing is deliberately slow).
pub async fn issue(
    tx: &mut WriteTx,
    people: Vec<PersonRow>,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Issued>, StoreError> {
    let mut out = Vec::with_capacity(people.len());
    for (i, person) in people.into_iter().enumerate() {
        let Some(username) = username_for(&person.staff_id) else {
            continue;
        };
        let password = one_time_password();
        let hash = hash_password_blocking(password.clone())
            .await
            .map_err(StoreError::Corrupt)?;
        Store::create_user(
            tx,
            &NewUser {
                username: username.clone(),
                display_name: person.name.clone(),
                person_id: Some(person.id),
                password_hash: hash,
                must_change_password: true,
            },
        )
        .await?;
        out.push(Issued {
            person,
            username,
            password,
        });
        progress(i + 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_staff_ids_when_they_can() {
        assert_eq!(username_for(" K-00123 ").as_deref(), Some("k-00123"));
        assert_eq!(username_for("職員001"), None);
        assert_eq!(username_for("a b"), None);
    }
}
