//! The readers on the fixtures in `tests/fixtures/efactura/`: documents of several
//! producers, ZIPs as SPV serves them, and hostile files.

use time::macros::date;

use super::ubl::MAX_DOCUMENT_BYTES;
use super::*;
use crate::blocks::money::{Amount, Currency};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/efactura/",
            $name
        ))
        .as_slice()
    };
}

/// What a refusal must be.
type IsUbl = fn(&UblError) -> bool;
/// What an archive's refusal must be.
type IsZip = fn(&ZipError) -> bool;

fn amount(text: &str) -> Amount {
    Amount::parse_decimal(text).expect("a test amount")
}

fn cui(document: &Party) -> Option<&str> {
    document.cui.as_ref().map(|c| c.as_str())
}

#[test]
fn an_invoice_reads_number_dates_currency_totals_and_parties() {
    let doc = read_document(fixture!("f-ad-2026-0147.xml")).expect("readable");
    assert_eq!(doc.kind, DocumentKind::Invoice);
    assert_eq!(doc.number, "AD-2026-0147");
    assert_eq!(doc.issue_date, date!(2026 - 11 - 03));
    assert_eq!(doc.due_date, date!(2026 - 12 - 03));
    assert_eq!(doc.currency, Currency::parse("RON").unwrap());
    assert_eq!(doc.total, amount("14280.00"));
    assert_eq!(doc.paid, Amount::ZERO);
    assert_eq!(doc.supplier.name, "Atelier Digital SRL");
    assert_eq!(cui(&doc.supplier), Some("18547290"));
    assert_eq!(doc.customer.name, "Construct Nord SA");
    assert_eq!(cui(&doc.customer), Some("30684326"));
}

#[test]
fn any_prefixes_read_the_same_and_the_first_payment_due_date_stands_in() {
    // ubl:/ns2:/ns3: prefixes, no cbc:DueDate, two PaymentMeans, EUR, a third decimal zero,
    // a foreign customer whose VAT number is no CUI.
    let doc = read_document(fixture!("inv-eur-2026-31.xml")).expect("readable");
    assert_eq!(doc.number, "ADE 31");
    assert_eq!(doc.due_date, date!(2026 - 11 - 25));
    assert_eq!(doc.currency, Currency::parse("EUR").unwrap());
    assert_eq!(doc.total, amount("2450.50"));
    assert_eq!(
        doc.supplier.name, "ATELIER DIGITAL SRL",
        "the legal name wins"
    );
    assert_eq!(cui(&doc.supplier), Some("18547290"), "'RO 18547290'");
    assert_eq!(doc.customer.name, "Nordwind Logistik GmbH");
    assert_eq!(cui(&doc.customer), None);
}

#[test]
fn without_any_due_date_the_issue_date_is_due_and_prepaid_counts_as_paid() {
    // CRLF, a comment, CDATA, &amp;, the CUI only in PartyLegalEntity, "345.1".
    let doc = read_document(fixture!("pcl-9921.xml")).expect("readable");
    assert_eq!(doc.number, "PCL 9921");
    assert_eq!(doc.issue_date, date!(2026 - 10 - 15));
    assert_eq!(doc.due_date, doc.issue_date);
    assert_eq!(doc.total, amount("345.10"));
    assert_eq!(doc.paid, amount("100.00"));
    assert_eq!(doc.supplier.name, "Papetăria Centrală & Birotică SRL");
    assert_eq!(cui(&doc.supplier), Some("14265474"));
    assert_eq!(
        cui(&doc.customer),
        Some("18547290"),
        "lower-case 'ro' prefix"
    );
}

#[test]
fn cbc_due_date_wins_over_payment_due_date() {
    let doc = read_document(fixture!("energia-ef-778812.xml")).expect("readable");
    assert_eq!(doc.due_date, date!(2026 - 11 - 20));
    assert_eq!(doc.total, amount("862.75"));
    assert_eq!(cui(&doc.supplier), Some("35456787"));
}

#[test]
fn credit_notes_count_negative_whichever_sign_they_are_written_with() {
    let positive = read_document(fixture!("nc-ad-2026-0152.xml")).expect("readable");
    assert_eq!(positive.kind, DocumentKind::CreditNote);
    assert_eq!(positive.number, "NC AD-2026-0152");
    assert_eq!(positive.total, amount("-1190.00"));
    assert_eq!(positive.due_date, positive.issue_date);
    let negative = read_document(fixture!("nc-energia-4410.xml")).expect("readable");
    assert_eq!(negative.total, amount("-59.50"));
    assert_eq!(negative.due_date, date!(2026 - 12 - 18));
}

#[test]
fn a_storno_invoice_keeps_its_negative_total() {
    let doc = read_document(fixture!("storno-ad-2026-0150.xml")).expect("readable");
    assert_eq!(doc.kind, DocumentKind::Invoice);
    assert_eq!(doc.total, amount("-595.00"));
}

#[test]
fn hostile_and_broken_documents_are_refused_with_their_reason() {
    let ns = r#"xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2""#;
    let with = |body: &str| format!("<Invoice {ns}>{body}</Invoice>").into_bytes();
    let full = |id: &str, issue: &str, total: &str| {
        with(&format!(
            "<cbc:ID>{id}</cbc:ID><cbc:IssueDate>{issue}</cbc:IssueDate>\
             <cbc:DocumentCurrencyCode>RON</cbc:DocumentCurrencyCode>\
             <cac:LegalMonetaryTotal xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\">\
             <cbc:TaxInclusiveAmount>{total}</cbc:TaxInclusiveAmount></cac:LegalMonetaryTotal>"
        ))
    };
    let cases: Vec<(Vec<u8>, IsUbl, &str)> = vec![
        (
            fixture!("hostile/billion-laughs.xml").to_vec(),
            |e| *e == UblError::Dtd,
            "billion laughs",
        ),
        (
            fixture!("hostile/external-entity.xml").to_vec(),
            |e| *e == UblError::Dtd,
            "external entity",
        ),
        (
            fixture!("hostile/undeclared-entity.xml").to_vec(),
            |e| matches!(e, UblError::Entity(n) if n == "xxe"),
            "undeclared entity",
        ),
        (
            fixture!("hostile/deep-nesting.xml").to_vec(),
            |e| *e == UblError::TooDeep,
            "10 000 levels",
        ),
        (
            vec![b' '; MAX_DOCUMENT_BYTES + 1],
            |e| *e == UblError::TooLarge,
            "too large",
        ),
        (
            b"\xff\xfe<\x00".to_vec(),
            |e| *e == UblError::NotUtf8,
            "UTF-16",
        ),
        (
            b"<Invoice>".to_vec(),
            |e| matches!(e, UblError::NotUbl(_)),
            "no namespace",
        ),
        (
            with("<cbc:ID>1"),
            |e| matches!(e, UblError::Malformed(_)),
            "cut short",
        ),
        (
            b"".to_vec(),
            |e| matches!(e, UblError::Malformed(_)),
            "empty",
        ),
        (
            b"<Order xmlns=\"urn:x\"/>".to_vec(),
            |e| matches!(e, UblError::NotUbl(r) if r == "Order"),
            "another root",
        ),
        (
            format!("<Invoice {ns}/>").into_bytes(),
            |e| matches!(e, UblError::Missing(_)),
            "empty root",
        ),
        (
            with("<cbc:IssueDate>2026-01-01</cbc:IssueDate>"),
            |e| *e == UblError::Missing("the number (cbc:ID)"),
            "no number",
        ),
        (
            full("1", "01.02.2026", "1.00"),
            |e| matches!(e, UblError::Invalid(f, _) if f.contains("IssueDate")),
            "a Romanian date",
        ),
        (
            full("1", "2026-02-30", "1.00"),
            |e| matches!(e, UblError::Invalid(f, _) if f.contains("IssueDate")),
            "no such day",
        ),
        (
            full("1", "2026-02-01", "1.005"),
            |e| matches!(e, UblError::Invalid(f, _) if f.contains("TaxInclusive")),
            "a third decimal",
        ),
        (
            full("1", "2026-02-01", "1e3"),
            |e| matches!(e, UblError::Invalid(f, _) if f.contains("TaxInclusive")),
            "an exponent",
        ),
        (
            full(&"9".repeat(1001), "2026-02-01", "1"),
            |e| matches!(e, UblError::Invalid(..)),
            "a 1001-character number",
        ),
        (
            fixture!("spv-4123456781.zip").to_vec(),
            |e| matches!(e, UblError::NotUtf8 | UblError::Malformed(_)),
            "a ZIP",
        ),
    ];
    for (bytes, expected, why) in cases {
        match read_document(&bytes) {
            Ok(doc) => panic!("{why}: read as {doc:?}"),
            Err(e) => assert!(expected(&e), "{why}: {e:?}"),
        }
    }
    // Control: the same builder with good values reads.
    let doc = read_document(&full("A&amp;B &#x31;", "2026-02-01", "1")).expect("control reads");
    assert_eq!(doc.number, "A&B 1");
}

#[test]
fn every_reason_reads_in_romanian_too() {
    let errors = [
        UblError::TooLarge,
        UblError::Dtd,
        UblError::Signature,
        UblError::Missing("the number (cbc:ID)"),
    ];
    for error in errors {
        assert_ne!(
            error.describe(Lang::Ro),
            error.describe(Lang::En),
            "{error:?}"
        );
    }
    assert_eq!(Problem::NotXml.describe(Lang::Ro), "nu este un fișier XML");
}

#[test]
fn an_spv_zip_yields_the_invoice_and_leaves_out_the_signature() {
    let files = read_files(
        "x.zip",
        fixture!("spv-4123456781.zip"),
        ZipLimits::default(),
    )
    .expect("readable");
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].file, "4123456781.xml");
    let doc = files[0].document.as_ref().expect("a document");
    assert_eq!(doc.number, "AD-2026-0147");
}

#[test]
fn a_zip_of_many_downloads_in_a_folder_reads_every_document() {
    let files = read_files(
        "nov.zip",
        fixture!("spv-noiembrie.zip"),
        ZipLimits::default(),
    )
    .expect("readable");
    let numbers: Vec<_> = files
        .iter()
        .map(|f| {
            f.document
                .as_ref()
                .expect("every document reads")
                .number
                .as_str()
        })
        .collect();
    assert_eq!(
        numbers,
        [
            "AD-2026-0147",
            "ADE 31",
            "PCL 9921",
            "EF-778812",
            "NC AD-2026-0152",
            "EFC-4410",
            "AD-2026-0150"
        ]
    );
}

#[test]
fn in_a_mixed_zip_each_bad_file_has_its_reason_and_the_good_ones_read() {
    let files = read_files("m.zip", fixture!("mixed.zip"), ZipLimits::default()).expect("readable");
    let outcome: Vec<(&str, Result<&str, &Problem>)> = files
        .iter()
        .map(|f| {
            (
                f.file.as_str(),
                f.document.as_ref().map(|d| d.number.as_str()),
            )
        })
        .collect();
    assert_eq!(outcome.len(), 7, "{outcome:?}");
    assert_eq!(outcome[0], ("4200000001.xml", Ok("AD-2026-0147")));
    assert!(
        matches!(outcome[1].1, Err(Problem::Ubl(UblError::Invalid(..)))),
        "{outcome:?}"
    );
    assert_eq!(outcome[2], ("4200000003.xml", Ok("EF-778812")));
    assert_eq!(
        outcome[3],
        ("4200000004.xml", Ok("ALT-77")),
        "reads; whose it is, is the import's call"
    );
    assert_eq!(outcome[4].1, Err(&Problem::Ubl(UblError::Dtd)));
    assert_eq!(outcome[5], ("factura.pdf", Err(&Problem::NotXml)));
    assert_eq!(outcome[6], ("alta.zip", Err(&Problem::NestedZip)));
}

#[test]
fn a_lone_xml_is_one_file_under_its_name() {
    let files = read_files("f.xml", fixture!("pcl-9921.xml"), ZipLimits::default()).expect("xml");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file, "f.xml");
    assert!(files[0].document.is_ok());
}

#[test]
fn hostile_zips_stop_before_inflating_too_much() {
    let limits = ZipLimits::default();
    let cases: [(&[u8], IsZip, &str); 4] = [
        (
            fixture!("hostile/bomb.zip"),
            |e| matches!(e, ZipError::TooLarge { max_mb: 10 }),
            "100 MB declared",
        ),
        (
            fixture!("hostile/lying-bomb.zip"),
            |e| matches!(e, ZipError::Bomb(_)),
            "declares 2 000 bytes, holds 5 MB",
        ),
        (
            fixture!("hostile/too-many.zip"),
            |e| {
                *e == ZipError::TooManyEntries {
                    found: 1001,
                    max: 1000,
                }
            },
            "1 001 files",
        ),
        (
            fixture!("hostile/truncated.zip"),
            |e| *e == ZipError::NotZip,
            "cut short",
        ),
    ];
    for (bytes, expected, why) in cases {
        match read_files("h.zip", bytes, limits) {
            Ok(files) => panic!("{why}: read {} files", files.len()),
            Err(e) => assert!(expected(&e), "{why}: {e:?}"),
        }
    }
}

#[test]
fn the_ratio_and_total_bounds_hold_on_their_own() {
    // bomb.zip within a generous entry bound: the ratio stops it.
    let generous = ZipLimits {
        max_entry_bytes: 200 * 1024 * 1024,
        max_total_bytes: 200 * 1024 * 1024,
        ..ZipLimits::default()
    };
    let bomb = read_files("b.zip", fixture!("hostile/bomb.zip"), generous);
    assert!(matches!(bomb, Err(ZipError::Bomb(_))), "{bomb:?}");
    // The folder ZIP (7 documents, 7 signatures) is above a 20 kB total.
    let small_total = ZipLimits {
        max_total_bytes: 20 * 1024,
        ..ZipLimits::default()
    };
    let total = read_files("n.zip", fixture!("spv-noiembrie.zip"), small_total);
    assert!(matches!(total, Err(ZipError::TooLarge { .. })), "{total:?}");
}

#[test]
fn a_damaged_entry_is_skipped_and_the_archive_still_reads() {
    let mut bytes = fixture!("spv-4123456781.zip").to_vec();
    // Flip a byte inside the first entry's compressed data (after its 30-byte header and name).
    bytes[30 + "4123456781.xml".len() + 40] ^= 0xff;
    let files = read_files("d.zip", &bytes, ZipLimits::default()).expect("the archive reads");
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].document.as_ref().unwrap_err(),
        &Problem::Entry(EntryError::Damaged)
    );
}

#[test]
fn signatures_are_recognised_by_name() {
    for (name, is) in [
        ("semnatura_4123456781.xml", true),
        ("folder/SEMNATURA_1.XML", true),
        ("4123456781.xml", false),
        ("semnatura.xml", false),
        ("semnatura_1.pdf", false),
    ] {
        assert_eq!(is_anaf_signature(name), is, "{name}");
    }
}
