//! The French texts of `[messages]` in `content/form.toml`: what the page's script and the
//! function say outside a field (a field's own messages sit with the field). One copy for both
//! runtimes: the function answers with these texts, the generator serialises them into the page's
//! contract, and a school changes a wording in that one file.
//!
//! A text may hold placeholders. The fixed ones, replaced when the file is read so that texts
//! follow the limits: `{max_photo}` (`4 Mo`), `{max_output}` (`200 Ko`), `{min_frame_width}`,
//! `{min_frame_height}`, `{keep_minutes}` and `{max_failed_signins}`. Others are filled when the text is shown (a photo's
//! size, say): each text lists the ones it may use, and any other is an error with its line.

use std::fmt::Display;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::SchemaError;
use crate::limits::{self, KEEP_MINUTES, MIN_FRAME_HEIGHT, MIN_FRAME_WIDTH};

/// Declares a table of texts: the public struct of resolved texts, and the private struct of the
/// file, whose values keep their position for the errors. One list of keys for both, so that a
/// key can be neither documented without being read nor read without being documented.
macro_rules! texts {
    ($(
        $(#[doc = $doc:literal])+
        $table:ident, $file:ident, $name:literal {
            $( $(#[doc = $fdoc:literal])+ $key:ident $([$($placeholder:ident),+])? ),+ $(,)?
        }
    )+) => {$(
        $(#[doc = $doc])+
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        pub struct $table {
            $( $(#[doc = $fdoc])+ pub $key: String, )+
        }

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $file {
            $( $key: Spanned<String>, )+
        }

        impl $file {
            fn resolve(self, src: &str) -> Result<$table, SchemaError> {
                Ok($table {
                    $( $key: resolve(src, $name, stringify!($key), self.$key,
                        &[$($(stringify!($placeholder)),+)?])?, )+
                })
            }
        }
    )+};
}

texts! {
    /// `[messages.page]`: what the page's script says while it helps (its summary, the photo being
    /// prepared, the camera, the connection, the receipt).
    PageTexts, PageFile, "page" {
        /// Title of the summary when fields are wrong.
        summary_fields_title,
        /// The sentence above the list of wrong fields.
        summary_fields_intro,
        /// Title of the summary for any other problem.
        summary_other_title,
        /// The device is offline: nothing left.
        offline,
        /// The request did not reach the function, or its answer did not come back.
        network,
        /// The function's answer could not be read (no JSON), with a status no other text covers.
        unexpected,
        /// The function refused the page's origin (its answer is unreadable to the page): the
        /// deployment's allowed origins do not list this page's.
        forbidden,
        /// While the request is on its way.
        sending,
        /// While the photo is read and reduced.
        preparing,
        /// The photo is ready, with its size once reduced.
        ready [width, height, size],
        /// The whole request weighs more than the function takes.
        too_heavy [size, max_size],
        /// The camera permission was refused.
        camera_denied,
        /// No camera on the device.
        camera_missing,
        /// The camera is used by another application.
        camera_busy,
        /// The camera did not start for another reason.
        camera_failed,
        /// The dossier number was copied.
        copied,
        /// The copy failed: the number is selected instead.
        copy_failed,
        /// « Oui » in the receipt.
        yes,
        /// « Non » in the receipt.
        no,
        /// The receipt was hidden after printing.
        receipt_printed,
        /// The receipt was hidden after its time.
        receipt_expired,
    }

    /// `[messages.photo]`: why a photo was refused, by the page (before sending) or by the
    /// function.
    PhotoTexts, PhotoFile, "photo" {
        /// HEIF/HEIC, what iPhones write: how to send a JPEG instead.
        heic,
        /// Not an image format that is read.
        unsupported,
        /// More pixels than the function decodes.
        too_many_pixels [width, height, max_megapixels],
        /// Too few pixels for a sharp ID photo.
        too_small [width, height],
        /// The file is damaged or cut.
        corrupt,
        /// The student's crop goes past the photo's edges.
        crop_outside,
        /// The student's crop is smaller than the least frame.
        crop_too_small [width, height],
        /// Decoding this photo for this frame would take too much memory.
        too_heavy [width, height],
        /// A progressive JPEG of too many scans.
        too_many_scans,
        /// A file cut into too many segments or chunks.
        too_many_parts,
        /// An animated image.
        animated,
        /// No JPEG quality fits the output budget.
        too_complex,
        /// The pipeline failed on our side.
        internal,
    }

    /// `[messages.answer]`: the function's answers when it records nothing (each a title, for its
    /// HTML page, and a text). The page shows the text the function sent, or this one when the
    /// answer could not be read.
    AnswerTexts, AnswerFile, "answer" {
        /// Title: an address that is not the form's.
        not_found_title,
        /// An address that is not the form's.
        not_found,
        /// Title: a method other than POST.
        method_not_allowed_title,
        /// A method other than POST.
        method_not_allowed,
        /// Title: a body above the limit.
        too_large_title,
        /// A body above the limit.
        too_large,
        /// Title: a body that is not a readable form.
        unreadable_title,
        /// A body that is not a readable form.
        unreadable,
        /// Title: an origin the deployment does not allow.
        forbidden_origin_title,
        /// An origin the deployment does not allow.
        forbidden_origin,
        /// Title: the same form sent before with other answers.
        conflict_title,
        /// The same form sent before with other answers.
        conflict,
        /// Title: the storage did not answer.
        unavailable_title,
        /// The storage did not answer: a retry completes the request.
        unavailable,
        /// Title: a fault on our side.
        internal_title,
        /// A fault on our side.
        internal,
    }

    /// `[messages.account]`: the e-mail after the request, as the receipt reports it (page and
    /// function), and the pages of the e-mail's link (function).
    AccountTexts, AccountFile, "account" {
        /// The receipt: the e-mail left for the address stored.
        mail_sent [email],
        /// The receipt: the e-mail could not leave; the request is stored all the same.
        mail_failed,
        /// The button that sends the e-mail again.
        resend,
        /// The e-mail was sent again.
        resent [email],
        /// The e-mail was sent as many times as allowed.
        resend_limit,
        /// Title: a link or button whose token is wrong or expired.
        link_invalid_title,
        /// A link or button whose token is wrong or expired.
        link_invalid,
        /// Title of the activation page.
        activation_title,
        /// What the activation page is for, with the dossier number.
        activation_intro [dossier],
        /// The setting of the activation page (the handout's words).
        send_to_school,
        /// The button that applies the setting and activates the account.
        apply,
        /// Title of the confirmation.
        activated_title,
        /// The confirmation, with the dossier number.
        activated [dossier],
        /// The confirmation: the card goes to the school.
        card_to_school,
        /// The confirmation: the card goes to the student's address.
        card_to_home,
        /// The confirmation, when the account was activated before: nothing changed.
        already_activated,
        /// The link from the confirmation to the personal space.
        space_link,
        /// Title of the personal space's sign-in page.
        signin_title,
        /// What the sign-in asks for.
        signin_intro,
        /// Label: the dossier number.
        signin_dossier,
        /// Label: the date of birth.
        signin_birth,
        /// The sign-in button.
        signin_button,
        /// The one answer to an unknown number, a wrong date, and a dossier with too many failed
        /// tries.
        signin_failed,
        /// Title of the personal space (the handout's « Mes Cartes »).
        cards_title,
        /// The status before the activation.
        status_received,
        /// The status once activated.
        status_activated,
        /// Staff status: something is missing.
        status_incomplet,
        /// Staff status: the request was checked.
        status_verifie,
        /// Staff status: the card is at the school.
        status_carte_arrivee,
        /// Staff status: the card was handed over.
        status_carte_remise,
        /// The button that saves the send-to-school setting in the personal space.
        save_setting,
        /// The setting was saved.
        setting_saved,
        /// The setting was changed as often as allowed.
        setting_locked,
        /// Title of the duplicate request's page, and the link to it from « Mes Cartes ».
        duplicate_title,
        /// What the duplicate request is for.
        duplicate_intro,
        /// Legend of the reasons.
        duplicate_reason,
        /// Reason: the card is lost.
        reason_perte,
        /// Reason: the card was stolen.
        reason_vol,
        /// Reason: the card is damaged.
        reason_degradation,
        /// No reason chosen.
        duplicate_reason_missing,
        /// Label: the optional new photo.
        duplicate_photo,
        /// What happens with and without a new photo.
        duplicate_photo_hint,
        /// The button that sends the duplicate request.
        duplicate_send,
        /// Title of the duplicate request's confirmation.
        duplicate_done_title,
        /// The confirmation and what happens next, with the dossier number.
        duplicate_done [dossier],
        /// The confirmation: a new photo came with the request.
        duplicate_photo_new,
        /// The confirmation: the request's photo is kept.
        duplicate_photo_kept,
        /// The confirmation, when a duplicate request was stored before: nothing changed.
        duplicate_before,
        /// « Mes Cartes »: the stored duplicate request, its day and reason.
        duplicate_open [date, motif],
        /// « Mes Cartes »: no second duplicate request from the space.
        duplicate_again,
        /// The link from the duplicate request's pages back to « Mes Cartes ».
        duplicate_back,
    }

    /// `[messages.hint]`: what may be wrong with the photo, said beside it once it is chosen and
    /// on the receipt (the function's photo hints, which never refuse a request).
    HintTexts, HintFile, "hint" {
        /// Title above the hints.
        title,
        /// No face found in the frame.
        no_face,
        /// More than one face in the frame.
        several_faces,
        /// The face has too few pixels.
        face_too_small,
        /// The frame cuts the head.
        head_cut,
        /// The face is too dark.
        too_dark,
        /// The face is washed out.
        too_bright,
        /// The face is blurred.
        blurred,
        /// The face is off the centre of the chosen frame.
        off_centre,
        /// The frame was placed on the face found.
        framed,
        /// The receipt, under its hints: the request is stored all the same.
        receipt_note,
    }
}

/// Every text of `[messages]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Texts {
    /// `[messages.page]`.
    pub page: PageTexts,
    /// `[messages.photo]`.
    pub photo: PhotoTexts,
    /// `[messages.answer]`.
    pub answer: AnswerTexts,
    /// `[messages.account]`.
    pub account: AccountTexts,
    /// `[messages.hint]`.
    pub hint: HintTexts,
}

/// `[messages]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextsFile {
    page: PageFile,
    photo: PhotoFile,
    answer: AnswerFile,
    account: AccountFile,
    hint: HintFile,
}

impl TextsFile {
    /// Fills the fixed placeholders and checks every text; `src` is the file, for the lines.
    pub(crate) fn resolve(self, src: &str) -> Result<Texts, SchemaError> {
        Ok(Texts {
            page: self.page.resolve(src)?,
            photo: self.photo.resolve(src)?,
            answer: self.answer.resolve(src)?,
            account: self.account.resolve(src)?,
            hint: self.hint.resolve(src)?,
        })
    }
}

/// The placeholders replaced when the file is read.
fn fixed_placeholders() -> [(&'static str, String); 6] {
    [
        ("max_photo", limits::max_photo_fr()),
        ("max_output", limits::max_output_fr()),
        ("min_frame_width", MIN_FRAME_WIDTH.to_string()),
        ("min_frame_height", MIN_FRAME_HEIGHT.to_string()),
        ("keep_minutes", KEEP_MINUTES.to_string()),
        ("max_failed_signins", limits::MAX_FAILED_SIGNINS.to_string()),
    ]
}

/// One text with its fixed placeholders filled; an error on its line when it is blank or holds a
/// placeholder that is neither fixed nor in `allowed`.
fn resolve(
    src: &str,
    table: &'static str,
    key: &'static str,
    text: Spanned<String>,
    allowed: &[&str],
) -> Result<String, SchemaError> {
    let line = crate::schema::line_of(src, text.span().start);
    let error = |problem: String| SchemaError::Message { line, table, key, problem };
    let mut text = text.into_inner();
    if text.trim().is_empty() {
        return Err(error("is empty".to_owned()));
    }
    for (name, value) in fixed_placeholders() {
        text = text.replace(&format!("{{{name}}}"), &value);
    }
    for placeholder in placeholders(&text) {
        if !allowed.contains(&placeholder) {
            let known = if allowed.is_empty() {
                String::new()
            } else {
                format!(" (this text may use {})", list(allowed))
            };
            return Err(error(format!("unknown placeholder `{{{placeholder}}}`{known}")));
        }
    }
    Ok(text)
}

/// `{a}`, `{b}` for the error messages.
fn list(names: &[&str]) -> String {
    names.iter().map(|name| format!("`{{{name}}}`")).collect::<Vec<_>>().join(", ")
}

/// The names of the `{name}` placeholders of a text, in order; a `{` without a closing `}` is
/// reported as a placeholder of what follows it.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).map(|rest| rest.split_once('}').map_or(rest, |(name, _)| name))
}

/// `template` with each `{name}` of `values` replaced: the texts' runtime placeholders.
pub fn fill(template: &str, values: &[(&str, &dyn Display)]) -> String {
    values.iter().fold(template.to_owned(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), &value.to_string())
    })
}
