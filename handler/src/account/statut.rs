//! Where a request stands, as the school's staff set it (`demandes statut`) and « Mes Cartes »
//! shows it. Before any, « Mes Cartes » shows « Demande reçue » or « Compte activé ».

use serde::{Deserialize, Serialize};

/// A status the staff set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statut {
    Incomplet,
    Verifie,
    CarteArrivee,
    CarteRemise,
}

impl Statut {
    /// In the order a request goes through them (`incomplet` aside).
    pub const ALL: [Statut; 4] =
        [Statut::Incomplet, Statut::Verifie, Statut::CarteArrivee, Statut::CarteRemise];

    /// The command's argument, the record's and the JSON's value.
    pub fn wire(self) -> &'static str {
        match self {
            Statut::Incomplet => "incomplet",
            Statut::Verifie => "verifie",
            Statut::CarteArrivee => "carte_arrivee",
            Statut::CarteRemise => "carte_remise",
        }
    }

    /// The status a value names, if it is one.
    pub fn parse(value: &str) -> Option<Statut> {
        Statut::ALL.into_iter().find(|statut| statut.wire() == value)
    }

    /// The French words « Mes Cartes » shows, from the contract's `[messages.account]`.
    pub fn label_fr(self) -> &'static str {
        let texts = &crate::texts().account;
        match self {
            Statut::Incomplet => &texts.status_incomplet,
            Statut::Verifie => &texts.status_verifie,
            Statut::CarteArrivee => &texts.status_carte_arrivee,
            Statut::CarteRemise => &texts.status_carte_remise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The argument is the record's value, each reads back, and nothing else is one.
    #[test]
    fn wire_values() {
        for statut in Statut::ALL {
            assert_eq!(serde_json::to_value(statut).unwrap(), statut.wire());
            assert_eq!(Statut::parse(statut.wire()), Some(statut));
            assert!(!statut.label_fr().is_empty());
        }
        for value in ["", "Verifie", "vérifié", "carte-remise", "demande_recue"] {
            assert_eq!(Statut::parse(value), None, "{value:?}");
        }
    }
}
