//! The dossier number given back to a student: short enough to copy by hand onto the school's slip,
//! with a check character that catches the usual copying mistakes.
//!
//! Format: 8 payload characters and 1 check character over a 29-symbol alphabet without look-alikes
//! (`0123456789ACDEFGHJKMNPQRTVWXY`: no B I L O S U Z). With values v₁…v₉ (v₉ the check character),
//! a number is valid when Σ i·vᵢ ≡ 0 (mod 29). Because 29 is prime and every weight 1…9 is non-zero
//! modulo 29, changing one character changes the sum by i·(a − b) ≢ 0, and swapping two different
//! neighbours changes it by (a − b) ≢ 0: both mistakes are always detected.
//!
//! People see `H4R-7N2-KPQ` (groups of three); storage keys use the compact `H4R7N2KPQ`.

use std::fmt;
use std::str::FromStr;

/// The 29 symbols, in value order.
const ALPHABET: &[u8; 29] = b"0123456789ACDEFGHJKMNPQRTVWXY";
/// Size of the alphabet, and the modulus of the check sum.
const BASE: u32 = 29;
/// Characters chosen at random (from the seed).
const PAYLOAD_LEN: usize = 8;
/// Payload plus the check character.
const LEN: usize = PAYLOAD_LEN + 1;
/// The inverse of 9 (the check character's weight) modulo 29: 9 × 13 = 117 = 4 × 29 + 1.
const INVERSE_OF_CHECK_WEIGHT: u32 = 13;

/// A valid dossier number (its check character is right).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dossier(String);

/// Why a typed dossier number was refused. Messages are for developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierError {
    #[error("a dossier number has {LEN} characters, found {0}")]
    Length(usize),
    #[error("`{0}` is not a character of dossier numbers")]
    Character(char),
    #[error("the check character does not match: the number was mistyped")]
    Check,
}

impl Dossier {
    /// The number made from 32 random (or keyed-hash) bytes: each payload character is one
    /// little-endian `u32` of the seed modulo 29 (the bias, 2³² mod 29 out of 2³², is negligible).
    /// Deterministic, so the same seed always gives the same number.
    pub fn from_seed(seed: &[u8; 32]) -> Dossier {
        let mut values = [0u32; LEN];
        for (value, chunk) in values.iter_mut().zip(seed.chunks_exact(4)) {
            let word = u32::from_le_bytes(chunk.try_into().expect("chunks of 4 bytes"));
            *value = word % BASE;
        }
        values[PAYLOAD_LEN] = check_value(&values[..PAYLOAD_LEN]);
        Dossier(values.iter().map(|&v| char::from(ALPHABET[v as usize])).collect())
    }

    /// Reads a number typed by a person. Forgiving on the form: case, spaces and hyphens are
    /// ignored, and the excluded look-alikes are read as what they resemble (O→0, I/L→1, S→5, Z→2,
    /// B→8, U→V). Strict on the content: nine symbols whose check character matches.
    pub fn parse(s: &str) -> Result<Dossier, DossierError> {
        let mut values = Vec::with_capacity(LEN);
        for c in s.chars() {
            if c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–') {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                'S' => '5',
                'Z' => '2',
                'B' => '8',
                'U' => 'V',
                other => other,
            };
            let value = value_of(c).ok_or(DossierError::Character(c))?;
            values.push(value);
        }
        if values.len() != LEN {
            return Err(DossierError::Length(values.len()));
        }
        if !weighted_sum(&values).is_multiple_of(BASE) {
            return Err(DossierError::Check);
        }
        Ok(Dossier(values.iter().map(|&v| char::from(ALPHABET[v as usize])).collect()))
    }

    /// The nine characters without separators, e.g. `H4R7N2KPQ`: for storage keys.
    pub fn compact(&self) -> &str {
        &self.0
    }
}

/// The value of a symbol of the alphabet, if it is one.
fn value_of(c: char) -> Option<u32> {
    let byte = u8::try_from(c).ok()?;
    ALPHABET.iter().position(|&a| a == byte).map(|p| p as u32)
}

/// Σ i·vᵢ with weights starting at 1.
fn weighted_sum(values: &[u32]) -> u32 {
    values.iter().zip(1u32..).map(|(v, i)| v * i).sum()
}

/// The check value that makes the weighted sum of payload + check a multiple of 29.
fn check_value(payload: &[u32]) -> u32 {
    let rest = weighted_sum(payload) % BASE;
    (BASE - rest) % BASE * INVERSE_OF_CHECK_WEIGHT % BASE
}

impl fmt::Display for Dossier {
    /// Groups of three for people: `H4R-7N2-KPQ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        write!(f, "{}-{}-{}", &s[0..3], &s[3..6], &s[6..9])
    }
}

impl FromStr for Dossier {
    type Err = DossierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dossier::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The text of a number made of these nine values (valid or not).
    fn text(values: &[u32; LEN]) -> String {
        values.iter().map(|&v| char::from(ALPHABET[v as usize])).collect()
    }

    /// The inverse of `a` modulo 29 (a ≠ 0), by search: the test does not trust the constant.
    fn inverse(a: u32) -> u32 {
        (1..BASE).find(|x| a * x % BASE == 1).expect("29 is prime")
    }

    /// A valid number whose values at the `fixed` positions are the given ones: position `free`
    /// (not among them) is solved so that the weighted sum is 0 mod 29; the others are a
    /// varied background.
    fn valid_with(fixed: &[(usize, u32)], free: usize) -> [u32; LEN] {
        let mut values: [u32; LEN] = std::array::from_fn(|i| (i as u32 * 7 + 3) % BASE);
        for &(position, value) in fixed {
            assert_ne!(position, free);
            values[position] = value;
        }
        values[free] = 0;
        let rest = weighted_sum(&values) % BASE;
        let weight = free as u32 + 1;
        values[free] = (BASE - rest) % BASE * inverse(weight) % BASE;
        assert_eq!(weighted_sum(&values) % BASE, 0);
        values
    }

    // Every substitution of one symbol by another, at every position and from every value, is
    // refused, while the original is accepted.
    #[test]
    fn every_single_substitution_is_detected() {
        let mut checked = 0;
        for position in 0..LEN {
            let free = if position == 0 { 1 } else { 0 };
            for original in 0..BASE {
                let values = valid_with(&[(position, original)], free);
                assert!(Dossier::parse(&text(&values)).is_ok(), "{}", text(&values));
                for replacement in (0..BASE).filter(|&r| r != original) {
                    let mut wrong = values;
                    wrong[position] = replacement;
                    assert_eq!(
                        Dossier::parse(&text(&wrong)),
                        Err(DossierError::Check),
                        "{} → {}",
                        text(&values),
                        text(&wrong)
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, LEN * 29 * 28);
    }

    // Every swap of two different neighbours, at every position and for every pair of values, is
    // refused, while the original is accepted.
    #[test]
    fn every_adjacent_transposition_is_detected() {
        let mut checked = 0;
        for position in 0..LEN - 1 {
            let free = if position <= 1 { LEN - 1 } else { 0 };
            for a in 0..BASE {
                for b in (0..BASE).filter(|&b| b != a) {
                    let values = valid_with(&[(position, a), (position + 1, b)], free);
                    assert!(Dossier::parse(&text(&values)).is_ok(), "{}", text(&values));
                    let mut swapped = values;
                    swapped.swap(position, position + 1);
                    assert_eq!(
                        Dossier::parse(&text(&swapped)),
                        Err(DossierError::Check),
                        "{} → {}",
                        text(&values),
                        text(&swapped)
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, (LEN - 1) * 29 * 28);
    }

    // The alphabet has 29 distinct symbols and none of the excluded look-alikes.
    #[test]
    fn alphabet_has_no_look_alikes() {
        let distinct: HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(distinct.len(), 29);
        for excluded in *b"BILOSUZ" {
            assert!(!ALPHABET.contains(&excluded), "{}", char::from(excluded));
        }
        assert_eq!(9 * INVERSE_OF_CHECK_WEIGHT % BASE, 1);
    }

    // Typed variants of one number (case, separators, look-alikes) all read as that number.
    #[test]
    fn parse_is_forgiving_on_the_form() {
        // 10 = A, so the payload 0 1 5 2 8 V ... exercises every look-alike mapping.
        let values = valid_with(&[(0, 0), (1, 1), (2, 5), (3, 2), (4, 8), (5, 25)], 7);
        let dossier = Dossier::parse(&text(&values)).unwrap();
        let canonical = dossier.compact().to_owned();
        assert_eq!(&canonical[..6], "01528V");
        let tail = &canonical[6..];
        let cases = [
            canonical.clone(),
            canonical.to_lowercase(),
            dossier.to_string(),
            format!("  {}  ", dossier.to_string().replace('-', " ")),
            format!("O1528V{tail}"),
            format!("oI528v{tail}"),
            format!("0L5Z8U{tail}"),
            format!("01S28V{tail}"),
            format!("015-2B-V{tail}"),
            format!("015\u{2011}28V\u{a0}{tail}"),
        ];
        for input in cases {
            assert_eq!(Dossier::parse(&input).as_ref(), Ok(&dossier), "input `{input}`");
        }
    }

    // Malformed inputs are refused with the variant that names the problem.
    #[test]
    fn parse_refuses_malformed_inputs() {
        let valid = Dossier::from_seed(&[7; 32]).compact().to_owned();
        let cases = [
            (String::new(), DossierError::Length(0)),
            (valid[..8].to_owned(), DossierError::Length(8)),
            (format!("{valid}0"), DossierError::Length(10)),
            (format!("{}*", &valid[..8]), DossierError::Character('*')),
            (format!("{}É", &valid[..8]), DossierError::Character('É')),
            (format!("{}_", &valid[..8]), DossierError::Character('_')),
        ];
        for (input, expected) in cases {
            assert_eq!(Dossier::parse(&input), Err(expected), "input `{input}`");
        }
    }

    // Display groups by three, and both it and the compact form parse back to the same number.
    #[test]
    fn display_and_compact_round_trip() {
        for byte in 0..=255u8 {
            let dossier = Dossier::from_seed(&[byte; 32]);
            let shown = dossier.to_string();
            assert_eq!(shown.len(), 11);
            assert_eq!(shown.replace('-', ""), dossier.compact());
            assert_eq!(shown.matches('-').count(), 2);
            assert_eq!(&shown[3..4], "-");
            assert_eq!(Dossier::parse(&shown).as_ref(), Ok(&dossier));
            assert_eq!(dossier.compact().parse::<Dossier>().as_ref(), Ok(&dossier));
        }
    }

    /// A reproducible stream of well-mixed seeds (SplitMix64), standing in for the handler's
    /// keyed hashes.
    fn seeds(count: usize) -> Vec<[u8; 32]> {
        let mut state = 0x5EED_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        (0..count)
            .map(|_| {
                let mut seed = [0u8; 32];
                for chunk in seed.chunks_exact_mut(8) {
                    chunk.copy_from_slice(&next().to_le_bytes());
                }
                seed
            })
            .collect()
    }

    // The same seed always gives the same valid number.
    #[test]
    fn from_seed_is_deterministic_and_valid() {
        for seed in seeds(1000) {
            let dossier = Dossier::from_seed(&seed);
            assert_eq!(Dossier::from_seed(&seed), dossier);
            assert_eq!(Dossier::parse(dossier.compact()).as_ref(), Ok(&dossier));
        }
        // Fixed vectors (computed independently): a change of the derivation would renumber
        // nothing already stored, but it would break the handler's idempotency across a
        // deployment.
        let counting: [u8; 32] = std::array::from_fn(|i| i as u8);
        assert_eq!(Dossier::from_seed(&[0; 32]).compact(), "000000000");
        assert_eq!(Dossier::from_seed(&[1; 32]).compact(), "DDDDDDDDA");
        assert_eq!(Dossier::from_seed(&counting).to_string(), "K8X-J7W-H6K");
    }

    // 10,000 different seeds give 10,000 different numbers, using every symbol at every position.
    #[test]
    fn from_seed_spreads() {
        let numbers: Vec<Dossier> = seeds(10_000).iter().map(Dossier::from_seed).collect();
        let distinct: HashSet<&str> = numbers.iter().map(Dossier::compact).collect();
        assert_eq!(distinct.len(), numbers.len());
        for position in 0..LEN {
            let symbols: HashSet<u8> = numbers.iter().map(|d| d.compact().as_bytes()[position]).collect();
            assert_eq!(symbols.len(), 29, "position {position}");
        }
    }
}
