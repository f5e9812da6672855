//! Why a duplicate card is asked for: the handout's three cases, as the duplicate request's form
//! sends them, `duplicata.json` keeps them and the pages name them.

use serde::{Deserialize, Serialize};

/// Why a duplicate is asked for: the handout's three cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Motif {
    Perte,
    Vol,
    Degradation,
}

impl Motif {
    /// In the order the page offers them.
    pub const ALL: [Motif; 3] = [Motif::Perte, Motif::Vol, Motif::Degradation];

    /// The form's value, and the record's.
    pub fn wire(self) -> &'static str {
        match self {
            Motif::Perte => "perte",
            Motif::Vol => "vol",
            Motif::Degradation => "degradation",
        }
    }

    /// The reason a form sent, if it is one.
    pub fn parse(value: &str) -> Option<Motif> {
        Motif::ALL.into_iter().find(|motif| motif.wire() == value)
    }

    /// The French word, from the contract's `[messages.account]`.
    pub fn label_fr(self) -> &'static str {
        let texts = &crate::texts().account;
        match self {
            Motif::Perte => &texts.reason_perte,
            Motif::Vol => &texts.reason_vol,
            Motif::Degradation => &texts.reason_degradation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The form's value is the record's, each reason reads back, and nothing else is one.
    #[test]
    fn wire_values() {
        for motif in Motif::ALL {
            assert_eq!(serde_json::to_value(motif).unwrap(), motif.wire());
            assert_eq!(Motif::parse(motif.wire()), Some(motif));
            assert!(!motif.label_fr().is_empty());
        }
        for value in ["", "Perte", "dégradation", "perte ", "autre"] {
            assert_eq!(Motif::parse(value), None, "{value:?}");
        }
    }
}
