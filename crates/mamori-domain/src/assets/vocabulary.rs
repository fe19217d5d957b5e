//! The fixed vocabularies of the asset register, each with a stable code (files, the API) and
//! the Japanese label of `DOMAIN.md` §3 (files written with labels). Pages show the Fluent
//! message `<prefix>-<code>` instead, so English users read English.

use crate::interchange::values::fold;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $prefix:literal { $( $(#[$vdoc:meta])* $variant:ident = $code:literal, $label:literal; )* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $( $(#[$vdoc])* $variant, )* }

        impl $name {
            /// Every value, in the order pages list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The Fluent message prefix of the labels (`<prefix>-<code>`).
            pub const MESSAGE_PREFIX: &'static str = $prefix;

            /// The stable code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// The Japanese label files use.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }

            /// The code or the Japanese label as a file may write it (full-width folded,
            /// surrounding spaces trimmed, codes case-insensitive).
            pub fn parse(written: &str) -> Option<$name> {
                let folded = fold(written);
                let lower = folded.to_ascii_lowercase();
                Self::ALL.iter().copied().find(|v| v.code() == lower || fold(v.label()) == folded)
            }

            /// The Fluent message id of the label.
            pub fn message_id(self) -> String {
                format!("{}-{}", $prefix, self.code())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// What kind of asset it is (clause 4(2)).
    AssetType, "asset-type" {
        /// ネットワーク.
        Network = "network", "ネットワーク";
        /// 情報システム.
        System = "system", "情報システム";
        /// 設備・機器.
        Equipment = "equipment", "設備・機器（サーバ、通信回線装置、端末等）";
        /// 電磁的記録媒体.
        Media = "media", "電磁的記録媒体";
        /// 情報（電磁的記録）.
        Information = "information", "情報（電磁的記録）";
        /// 印刷された文書.
        Printed = "printed", "印刷された文書";
        /// システム関連文書.
        SystemDocument = "system_document", "システム関連文書（仕様書、ネットワーク図等）";
    }
}

vocabulary! {
    /// The network segment of the three-layer model (三層の対策).
    Segment, "segment" {
        /// マイナンバー利用事務系.
        Mynumber = "mynumber", "マイナンバー利用事務系";
        /// LGWAN接続系.
        Lgwan = "lgwan", "LGWAN接続系";
        /// インターネット接続系.
        Internet = "internet", "インターネット接続系";
        /// スタンドアロン・閉域.
        Standalone = "standalone", "スタンドアロン・閉域";
        /// 該当なし.
        None = "none", "該当なし";
    }
}

vocabulary! {
    /// Where an asset is in its lifecycle: registered → in use → disposed.
    AssetStatus, "asset-status" {
        /// 登録済: known, not yet in use.
        Registered = "registered", "登録済";
        /// 使用中 (the default).
        InUse = "in_use", "使用中";
        /// 廃棄済: disposed, with a disposal record; kept for its history.
        Disposed = "disposed", "廃棄済";
    }
}

vocabulary! {
    /// How two assets are related. `from` is always the container side except for
    /// `runs_on`, where the equipment (`to`) hosts the system (`from`).
    RelationKind, "relation" {
        /// A system, medium or equipment (`from`) holds information (`to`).
        Holds = "holds", "保有";
        /// A system (`from`) runs on equipment (`to`).
        RunsOn = "runs_on", "稼働";
        /// A network (`from`) connects a system or equipment (`to`).
        Connects = "connects", "接続";
    }
}

impl RelationKind {
    /// The relation as (container, part): the container should be classified at least as high
    /// as the part it holds, hosts or carries.
    pub fn container_first<T>(self, from: T, to: T) -> (T, T) {
        match self {
            RelationKind::Holds | RelationKind::Connects => (from, to),
            RelationKind::RunsOn => (to, from),
        }
    }

    /// Whether the relation makes sense between these types (a network connects, a system
    /// runs on equipment, a container holds information or documents).
    pub fn allows(self, from: AssetType, to: AssetType) -> bool {
        use AssetType::*;
        match self {
            RelationKind::Holds => {
                matches!(from, System | Equipment | Media | Network)
                    && matches!(to, Information | Printed | SystemDocument | Media)
            }
            RelationKind::RunsOn => matches!(from, System) && matches!(to, Equipment),
            RelationKind::Connects => {
                matches!(from, Network) && matches!(to, System | Equipment | Network)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_parse_full_width_and_spaced() {
        assert_eq!(AssetType::parse(" ｓｙｓｔｅｍ "), Some(AssetType::System));
        assert_eq!(AssetType::parse("情報システム"), Some(AssetType::System));
        assert_eq!(Segment::parse("LGWAN接続系"), Some(Segment::Lgwan));
        assert_eq!(Segment::parse("Internet"), Some(Segment::Internet));
        assert_eq!(AssetStatus::parse("廃棄済"), Some(AssetStatus::Disposed));
        assert_eq!(AssetType::parse("server"), None);
        for t in AssetType::ALL {
            assert_eq!(AssetType::parse(t.label()), Some(*t));
        }
    }

    #[test]
    fn the_container_side_of_each_relation() {
        assert_eq!(
            RelationKind::Holds.container_first("sys", "info"),
            ("sys", "info")
        );
        assert_eq!(
            RelationKind::RunsOn.container_first("sys", "srv"),
            ("srv", "sys")
        );
        assert!(RelationKind::RunsOn.allows(AssetType::System, AssetType::Equipment));
        assert!(!RelationKind::RunsOn.allows(AssetType::Information, AssetType::Equipment));
    }
}
