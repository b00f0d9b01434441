//! One e-Factura document (UBL 2.1, CIUS-RO): an `Invoice` or a `CreditNote`,
//! read down to the figures ledgerbot keeps.
//!
//! The reader streams through the document once (quick-xml's namespace-aware
//! reader) and tracks where it is by namespace and local name, so any prefix a
//! producer chooses (`cbc:`, `ns2:`, a default namespace) reads the same.
//! Hostile input is refused before it can cost anything: a document larger
//! than [`MAX_DOCUMENT_BYTES`], any DTD (`<!DOCTYPE`, hence no entity is ever
//! declared, let alone expanded, and nothing external is ever fetched), an
//! entity reference other than XML's five and character references, and
//! nesting deeper than [`MAX_DEPTH`]. Amounts are read digit by digit into
//! [`Amount`]; no float is involved.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use time::Date;
use time::macros::format_description;

use crate::blocks::Lang;
use crate::blocks::money::{Amount, Currency};
use crate::blocks::validate::Cui;

/// The largest document read: ANAF's own cap on an uploaded e-Factura XML (10 MB).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// The deepest nesting of elements read. A UBL invoice nests about ten deep.
pub const MAX_DEPTH: usize = 64;
/// The longest text kept from one field (a number, a name, a CUI).
const MAX_FIELD_CHARS: usize = 1000;

const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_XMLDSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Which of the two UBL documents this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// `<Invoice>`: amounts as written.
    Invoice,
    /// `<CreditNote>`: amounts count negative.
    CreditNote,
}

/// A party of the document: the supplier or the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The legal name (`cac:PartyLegalEntity/cbc:RegistrationName`), else the trading
    /// name (`cac:PartyName/cbc:Name`); empty when the document names neither.
    pub name: String,
    /// The Romanian CUI, from the first of `cac:PartyTaxScheme/cbc:CompanyID`,
    /// `cac:PartyLegalEntity/cbc:CompanyID` and `cac:PartyIdentification/cbc:ID`
    /// that is one (an `RO` prefix dropped); `None` for a foreign party or one
    /// without any.
    pub cui: Option<Cui>,
}

/// What ledgerbot keeps of one e-Factura document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Invoice or credit note.
    pub kind: DocumentKind,
    /// The number, series included (`cbc:ID`).
    pub number: String,
    /// `cbc:IssueDate`.
    pub issue_date: Date,
    /// `cbc:DueDate`, else the first `cac:PaymentMeans/cbc:PaymentDueDate`, else the issue date.
    pub due_date: Date,
    /// `cbc:DocumentCurrencyCode`.
    pub currency: Currency,
    /// `cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount`; negative for a credit note.
    pub total: Amount,
    /// `cac:LegalMonetaryTotal/cbc:PrepaidAmount`, zero when absent; negative for a credit note.
    pub paid: Amount,
    /// `cac:AccountingSupplierParty/cac:Party`.
    pub supplier: Party,
    /// `cac:AccountingCustomerParty/cac:Party`.
    pub customer: Party,
}

/// Why a document was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UblError {
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error("the document is larger than 10 MB")]
    TooLarge,
    /// Not UTF-8 text.
    #[error("the document is not UTF-8 text")]
    NotUtf8,
    /// A `<!DOCTYPE`: never read, since it is how entity bombs and external entities come in.
    #[error("the document has a DTD (<!DOCTYPE), which e-Factura never uses")]
    Dtd,
    /// An entity other than XML's own five.
    #[error("the document uses an entity (&{0};) that is not XML's own")]
    Entity(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("the document nests deeper than 64 elements")]
    TooDeep,
    /// Not well-formed XML.
    #[error("the document is not well-formed XML: {0}")]
    Malformed(String),
    /// ANAF's signature (`semnatura_*.xml`), not an invoice.
    #[error("this is ANAF's signature, not an invoice")]
    Signature,
    /// Well-formed XML whose root is neither UBL `Invoice` nor `CreditNote`.
    #[error("not an e-Factura invoice or credit note (the root is <{0}>)")]
    NotUbl(String),
    /// A field ledgerbot needs is absent or empty.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A field is present but unreadable; the second part says how.
    #[error("{0} is not valid: {1}")]
    Invalid(&'static str, String),
}

impl UblError {
    /// The reason in a person's language, for the web page and the bot (the API uses `Display`).
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (Self::TooLarge, Lang::Ro) => "documentul are mai mult de 10 MB".into(),
            (Self::NotUtf8, Lang::Ro) => "documentul nu este text UTF-8".into(),
            (Self::Dtd, Lang::Ro) => {
                "documentul are un DTD (<!DOCTYPE), pe care e-Factura nu îl folosește niciodată"
                    .into()
            }
            (Self::Entity(name), Lang::Ro) => {
                format!("documentul folosește o entitate (&{name};) care nu este a XML-ului")
            }
            (Self::TooDeep, Lang::Ro) => "documentul are peste 64 de niveluri de elemente".into(),
            (Self::Malformed(why), Lang::Ro) => format!("documentul nu este XML corect: {why}"),
            (Self::Signature, Lang::Ro) => "aceasta este semnătura ANAF, nu o factură".into(),
            (Self::NotUbl(root), Lang::Ro) => {
                format!("nu este o factură sau o notă de credit e-Factura (rădăcina este <{root}>)")
            }
            (Self::Missing(field), Lang::Ro) => format!("lipsește {field}"),
            (Self::Invalid(field, why), Lang::Ro) => format!("{field} nu este valid: {why}"),
        }
    }
}

/// The fields read, by their path under the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Number,
    IssueDate,
    DueDate,
    PaymentDueDate,
    Currency,
    Total,
    Prepaid,
    Name(Side, NameKind),
    Id(Side, IdKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Supplier,
    Customer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Legal,
    Trading,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    TaxScheme,
    LegalEntity,
    Identification,
}

/// An element's namespace, as far as this reader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Cbc,
    Cac,
    Other,
}

/// Which field, if any, the element at `path` (under the root) holds.
fn field_at(path: &[(Ns, String)]) -> Option<Field> {
    use Ns::{Cac, Cbc};
    let names: Vec<(Ns, &str)> = path.iter().map(|(ns, n)| (*ns, n.as_str())).collect();
    let field = match names.as_slice() {
        [(Cbc, "ID")] => Field::Number,
        [(Cbc, "IssueDate")] => Field::IssueDate,
        [(Cbc, "DueDate")] => Field::DueDate,
        [(Cbc, "DocumentCurrencyCode")] => Field::Currency,
        [(Cac, "PaymentMeans"), (Cbc, "PaymentDueDate")] => Field::PaymentDueDate,
        [(Cac, "LegalMonetaryTotal"), (Cbc, "TaxInclusiveAmount")] => Field::Total,
        [(Cac, "LegalMonetaryTotal"), (Cbc, "PrepaidAmount")] => Field::Prepaid,
        [(Cac, side), (Cac, "Party"), (Cac, group), (Cbc, leaf)] => {
            let side = match *side {
                "AccountingSupplierParty" => Side::Supplier,
                "AccountingCustomerParty" => Side::Customer,
                _ => return None,
            };
            match (*group, *leaf) {
                ("PartyLegalEntity", "RegistrationName") => Field::Name(side, NameKind::Legal),
                ("PartyName", "Name") => Field::Name(side, NameKind::Trading),
                ("PartyTaxScheme", "CompanyID") => Field::Id(side, IdKind::TaxScheme),
                ("PartyLegalEntity", "CompanyID") => Field::Id(side, IdKind::LegalEntity),
                ("PartyIdentification", "ID") => Field::Id(side, IdKind::Identification),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(field)
}

/// The texts found, first occurrence of each field kept.
#[derive(Default)]
struct Found {
    fields: Vec<(Field, String)>,
}

impl Found {
    fn get(&self, field: Field) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, text)| text.as_str())
    }

    fn keep(&mut self, field: Field, text: String) {
        let text = text.trim();
        if !text.is_empty() && self.get(field).is_none() {
            self.fields.push((field, text.to_owned()));
        }
    }

    fn required(&self, field: Field, what: &'static str) -> Result<&str, UblError> {
        self.get(field).ok_or(UblError::Missing(what))
    }

    fn party(&self, side: Side) -> Party {
        let name = self
            .get(Field::Name(side, NameKind::Legal))
            .or_else(|| self.get(Field::Name(side, NameKind::Trading)))
            .unwrap_or_default()
            .to_owned();
        let cui = [
            IdKind::TaxScheme,
            IdKind::LegalEntity,
            IdKind::Identification,
        ]
        .into_iter()
        .filter_map(|kind| self.get(Field::Id(side, kind)))
        .find_map(|id| Cui::parse(id).ok());
        Party { name, cui }
    }
}

fn namespace(resolved: &ResolveResult<'_>) -> Option<&'static str> {
    let ResolveResult::Bound(Namespace(ns)) = resolved else {
        return None;
    };
    [NS_INVOICE, NS_CREDIT_NOTE, NS_CBC, NS_CAC, NS_XMLDSIG]
        .into_iter()
        .find(|known| *known == *ns)
}

fn local_name(start: &BytesStart<'_>) -> String {
    start.local_name().as_ref().to_owned()
}

/// Reads one e-Factura document.
///
/// # Errors
///
/// [`UblError`] says why the bytes are not a document ledgerbot can keep: too
/// large, not XML, hostile (a DTD, a foreign entity, too deep), not UBL, or a
/// needed field missing or unreadable.
pub fn read_document(bytes: &[u8]) -> Result<Document, UblError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(UblError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| UblError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);

    let mut kind = None;
    // The path under the root: (namespace, local name) of each open element.
    let mut path: Vec<(Ns, String)> = Vec::new();
    let mut capture: Option<(Field, String)> = None;
    let mut found = Found::default();
    let mut depth = 0usize;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| UblError::Malformed(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(UblError::Dtd),
            Event::Start(start) if depth == 0 => {
                if kind.is_some() {
                    return Err(UblError::Malformed("a second root element".into()));
                }
                kind = Some(root_kind(&resolved, &start)?);
                depth = 1;
            }
            Event::Empty(start) if depth == 0 => {
                // An empty root: nothing inside, so the first required field is missing.
                kind = Some(root_kind(&resolved, &start)?);
                break;
            }
            Event::Start(start) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(UblError::TooDeep);
                }
                let ns = match namespace(&resolved) {
                    Some(NS_CBC) => Ns::Cbc,
                    Some(NS_CAC) => Ns::Cac,
                    _ => Ns::Other,
                };
                path.push((ns, local_name(&start)));
                capture = field_at(&path).map(|field| (field, String::new()));
            }
            Event::Empty(_) => {}
            Event::End(_) => {
                if let Some((field, text)) = capture.take() {
                    found.keep(field, text);
                }
                depth -= 1;
                if depth == 0 {
                    break;
                }
                path.pop();
            }
            Event::Text(text) => push_text(&mut capture, &text.xml10_content())?,
            Event::CData(data) => push_text(&mut capture, &data.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*reference.xml10_content() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(UblError::Entity(other.chars().take(60).collect()));
                        }
                    },
                    Err(e) => return Err(UblError::Malformed(e.to_string())),
                };
                push_text(&mut capture, resolved.encode_utf8(&mut [0; 4]))?;
            }
            Event::Eof => {
                return Err(match kind {
                    None => UblError::Malformed("no root element".into()),
                    Some(_) => UblError::Malformed("the document ends too early".into()),
                });
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    let kind = kind.expect("the loop ends only after reading the root");
    document(kind, &found)
}

/// The document's kind from its root element.
fn root_kind(
    resolved: &ResolveResult<'_>,
    start: &BytesStart<'_>,
) -> Result<DocumentKind, UblError> {
    match (namespace(resolved), local_name(start).as_str()) {
        (Some(NS_INVOICE), "Invoice") => Ok(DocumentKind::Invoice),
        (Some(NS_CREDIT_NOTE), "CreditNote") => Ok(DocumentKind::CreditNote),
        (Some(NS_XMLDSIG), "Signature") => Err(UblError::Signature),
        _ => {
            let shown = start.name().as_ref().to_owned();
            Err(UblError::NotUbl(shown.chars().take(60).collect()))
        }
    }
}

fn push_text(capture: &mut Option<(Field, String)>, text: &str) -> Result<(), UblError> {
    if let Some((_, buffer)) = capture {
        if buffer.len() + text.len() > MAX_FIELD_CHARS {
            return Err(UblError::Invalid(
                "a field",
                "longer than 1000 characters".into(),
            ));
        }
        buffer.push_str(text);
    }
    Ok(())
}

fn document(kind: DocumentKind, found: &Found) -> Result<Document, UblError> {
    let number = found
        .required(Field::Number, "the number (cbc:ID)")?
        .to_owned();
    let issue_date = date(
        found.required(Field::IssueDate, "the issue date (cbc:IssueDate)")?,
        "the issue date (cbc:IssueDate)",
    )?;
    let due_date = match found.get(Field::DueDate) {
        Some(due) => date(due, "the due date (cbc:DueDate)")?,
        None => match found.get(Field::PaymentDueDate) {
            Some(due) => date(due, "the due date (cbc:PaymentDueDate)")?,
            None => issue_date,
        },
    };
    let currency_field = "the currency (cbc:DocumentCurrencyCode)";
    let currency = Currency::parse(found.required(Field::Currency, currency_field)?)
        .map_err(|e| UblError::Invalid(currency_field, e.to_string()))?;
    let total_field = "the total (cbc:TaxInclusiveAmount)";
    let total = amount(found.required(Field::Total, total_field)?, total_field)?;
    let paid = match found.get(Field::Prepaid) {
        Some(paid) => amount(paid, "the amount paid (cbc:PrepaidAmount)")?,
        None => Amount::ZERO,
    };
    let sign = |a: Amount| match kind {
        // A credit note's amounts are positive by the standard; some producers write them
        // negative already. Either way they reduce what is owed.
        DocumentKind::CreditNote if !a.is_negative() => -a,
        _ => a,
    };
    Ok(Document {
        kind,
        number,
        issue_date,
        due_date,
        currency,
        total: sign(total),
        paid: sign(paid),
        supplier: found.party(Side::Supplier),
        customer: found.party(Side::Customer),
    })
}

fn date(text: &str, field: &'static str) -> Result<Date, UblError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| UblError::Invalid(field, format!("{text:?} is not a YYYY-MM-DD date")))
}

/// A UBL amount: a decimal with a dot. Zeros past the second decimal are dropped
/// (`100.000`); any other third decimal is refused, not rounded.
fn amount(text: &str, field: &'static str) -> Result<Amount, UblError> {
    let mut text = text.strip_prefix('+').unwrap_or(text);
    if let Some((_, decimals)) = text.split_once('.')
        && decimals.len() > 2
    {
        text = text.trim_end_matches('0');
        if text.ends_with('.') {
            text = &text[..text.len() - 1];
        }
    }
    Amount::parse_decimal(text).map_err(|e| UblError::Invalid(field, e.to_string()))
}
