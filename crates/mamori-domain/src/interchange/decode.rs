//! Text encodings: UTF-8 (strict, with or without BOM) first, else CP932 as Windows writes it
//! (strict, including the NEC and IBM extensions such as 髙, 﨑 and ①), else refusal. Text that
//! is valid CP932 but reads like another encoding (EUC-JP decodes mostly into half-width kana)
//! is refused too: never guessed into mojibake.

use std::borrow::Cow;

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// Shift_JIS as Windows writes it (CP932).
    Cp932,
}

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// UTF-16 (a BOM or NUL bytes between ASCII characters).
    #[error("the file is UTF-16; save it as UTF-8 or Shift_JIS (CP932)")]
    Utf16,
    /// NUL bytes or other binary content.
    #[error("the file is not text")]
    Binary,
    /// A UTF-8 byte-order mark followed by invalid UTF-8.
    #[error("the file starts like UTF-8 but is not valid UTF-8 (byte {0})")]
    BadUtf8(usize),
    /// Neither UTF-8 nor CP932.
    #[error("the file is neither UTF-8 nor Shift_JIS (CP932)")]
    Unknown,
    /// Valid CP932 that reads like EUC-JP.
    #[error("the file looks like EUC-JP; save it as UTF-8 or Shift_JIS (CP932)")]
    LooksLikeEucJp,
}

impl DecodeError {
    /// The Fluent message id for people.
    pub fn message_id(&self) -> &'static str {
        match self {
            DecodeError::Utf16 => "import-utf16",
            DecodeError::Binary => "import-binary",
            DecodeError::BadUtf8(_) => "import-bad-utf8",
            DecodeError::Unknown => "import-unknown-encoding",
            DecodeError::LooksLikeEucJp => "import-euc-jp",
        }
    }
}

/// Decodes a whole file (UTF-8 is read in place, not copied).
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), DecodeError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(DecodeError::Utf16);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(rest) {
            Ok(s) if !s.contains('\0') => Ok((Cow::Borrowed(s), Encoding::Utf8Bom)),
            Ok(_) => Err(DecodeError::Binary),
            Err(e) => Err(DecodeError::BadUtf8(e.valid_up_to() + 3)),
        };
    }
    if bytes.contains(&0) {
        // ASCII text in UTF-16 has a NUL beside every character.
        let nuls = bytes.iter().filter(|b| **b == 0).count();
        return Err(if nuls * 3 >= bytes.len() {
            DecodeError::Utf16
        } else {
            DecodeError::Binary
        });
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(s), Encoding::Utf8));
    }
    let Some(text) =
        encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes)
    else {
        return Err(DecodeError::Unknown);
    };
    let non_ascii = text.chars().filter(|c| !c.is_ascii()).count();
    let halfwidth_kana = text
        .chars()
        .filter(|c| ('\u{FF61}'..='\u{FF9F}').contains(c))
        .count();
    // Japanese text in CP932 is mostly full-width; EUC-JP bytes read as CP932 are mostly
    // half-width kana. Files that legitimately use half-width kana still have kanji and kana.
    let valid_euc = encoding_rs::EUC_JP
        .decode_without_bom_handling_and_without_replacement(bytes)
        .is_some();
    if valid_euc && non_ascii >= 4 && halfwidth_kana * 10 >= non_ascii * 7 {
        return Err(DecodeError::LooksLikeEucJp);
    }
    Ok((text, Encoding::Cp932))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp932(s: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(
            decode("事務局".as_bytes()),
            Ok(("事務局".into(), Encoding::Utf8))
        );
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("事務局".as_bytes());
        assert_eq!(decode(&b), Ok(("事務局".into(), Encoding::Utf8Bom)));
    }

    #[test]
    fn cp932_with_vendor_extensions() {
        let text = "髙橋,長﨑,①,ｻﾝﾌﾟﾙ,総務係";
        assert_eq!(decode(&cp932(text)), Ok((text.into(), Encoding::Cp932)));
    }

    #[test]
    fn the_shared_sample_is_cp932() {
        let bytes = include_bytes!("../../../../../shared/samples/units.cp932.csv");
        let (text, enc) = decode(bytes).expect("decodes");
        assert_eq!(enc, Encoding::Cp932);
        assert!(text.starts_with("組織コード,名称,上位組織コード,適用範囲"));
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(&[0xFF, 0xFE, b'a', 0]), Err(DecodeError::Utf16));
        assert_eq!(
            decode(&[b'a', 0, b'b', 0, b'c', 0]),
            Err(DecodeError::Utf16)
        );
        assert_eq!(
            decode(&[0x89, b'P', b'N', b'G', 0, 0x1A, 0x0A, 0x10, 0x20]),
            Err(DecodeError::Binary)
        );
        assert_eq!(
            decode(&[0xEF, 0xBB, 0xBF, 0xC3]),
            Err(DecodeError::BadUtf8(3))
        );
        // EUC-JP for 事務局総務係 decodes as CP932 into half-width kana soup.
        let euc = encoding_rs::EUC_JP
            .encode("事務局総務係の職員名簿")
            .0
            .into_owned();
        assert!(matches!(
            decode(&euc),
            Err(DecodeError::LooksLikeEucJp | DecodeError::Unknown)
        ));
        // Half-width kana beside kanji is ordinary CP932 (old systems write kana that way).
        let mixed = cp932("田中 太郎,ﾀﾅｶ ﾀﾛｳ,総務係");
        assert!(decode(&mixed).is_ok());
        assert_eq!(decode(&[0x81]), Err(DecodeError::Unknown));
    }
}
