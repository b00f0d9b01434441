//! The files of a ZIP archive, read within bounds: no zip bomb gets past them.
//!
//! SPV serves each e-Factura as a ZIP of the invoice's XML and ANAF's
//! signature (`semnatura_<id>.xml`); people zip many such files together.
//! This is a small reader of exactly that: the central directory, entries
//! stored or deflated (flate2, pure Rust), each checked against its CRC. No
//! ZIP64, no encryption, no archive split over disks: SPV never makes them,
//! and refusing them keeps the reader short enough to read whole. It is our
//! own rather than the `zip` crate's because every bound is checked here
//! before a byte is inflated, from the central directory, and again on the
//! bytes actually inflated (a lying header, overlapping entries), and
//! because the whole archive is already in memory (the request body).
//!
//! Bounds ([`ZipLimits`]): the number of entries, each entry's and the
//! archive's total uncompressed size, and the compression ratio of large
//! entries. Breaking one stops the whole archive ([`ZipError`]); an entry
//! that is merely unreadable (damaged, encrypted, an unknown method) is
//! reported on its own ([`EntryError`]) and the others still read.

use std::io::Read;

use crate::blocks::Lang;

/// The bounds an archive must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Entries in the central directory (directories included).
    pub max_entries: usize,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes of all entries together.
    pub max_total_bytes: u64,
    /// Uncompressed over compressed size, for entries above [`RATIO_FLOOR`] bytes.
    pub max_ratio: u64,
}

/// Entries smaller than this are not held to the ratio: a short text may compress very well
/// and costs nothing to inflate.
pub const RATIO_FLOOR: u64 = 64 * 1024;

impl Default for ZipLimits {
    /// 1 000 entries, 10 MB each (ANAF's cap on one e-Factura XML), 50 MB in all, 100 to 1.
    fn default() -> Self {
        ZipLimits {
            max_entries: 1000,
            max_entry_bytes: 10 * 1024 * 1024,
            max_total_bytes: 50 * 1024 * 1024,
            max_ratio: 100,
        }
    }
}

/// Why an archive is not read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    /// No end of central directory: not a ZIP, or a truncated one.
    #[error("this is not a ZIP archive, or it is cut short")]
    NotZip,
    /// A ZIP64 or multi-disk archive, which SPV never produces.
    #[error("ZIP64 and split archives are not read")]
    Unsupported,
    /// The central directory or a local header contradicts the archive.
    #[error("the ZIP archive is damaged: {0}")]
    Damaged(&'static str),
    /// More entries than [`ZipLimits::max_entries`].
    #[error("the ZIP archive has {found} files; at most {max} are read at once")]
    TooManyEntries {
        /// Entries in the archive.
        found: usize,
        /// The bound.
        max: usize,
    },
    /// An entry, or all of them together, would unpack to more than the bounds allow.
    #[error("unpacked, the ZIP archive would be larger than {max_mb} MB")]
    TooLarge {
        /// The bound broken, in MB.
        max_mb: u64,
    },
    /// Compressed beyond any real document, or holding more than its headers declare:
    /// the marks of a zip bomb.
    #[error("the ZIP archive looks like a zip bomb ({0})")]
    Bomb(&'static str),
}

impl ZipError {
    /// The reason in a person's language, for the web page and the bot (the API uses `Display`).
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (Self::NotZip, Lang::Ro) => "nu este o arhivă ZIP sau este trunchiată".into(),
            (Self::Unsupported, Lang::Ro) => {
                "arhivele ZIP64 și cele împărțite în mai multe părți nu sunt citite".into()
            }
            (Self::Damaged(_), Lang::Ro) => "arhiva ZIP este deteriorată".into(),
            (Self::TooManyEntries { found, max }, Lang::Ro) => {
                format!("arhiva ZIP are {found} fișiere; se citesc cel mult {max} deodată")
            }
            (Self::TooLarge { max_mb }, Lang::Ro) => {
                format!("dezarhivată, arhiva ZIP ar avea peste {max_mb} MB")
            }
            (Self::Bomb(_), Lang::Ro) => "arhiva ZIP pare o bombă ZIP (zip bomb)".into(),
        }
    }
}

/// Why one entry was not read (the others still are).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Password-protected.
    #[error("the file is encrypted")]
    Encrypted,
    /// A compression method other than stored or deflate.
    #[error("the file is compressed with a method that is not read (method {0})")]
    Method(u16),
    /// Its data does not inflate, or does not match its CRC or size.
    #[error("the file is damaged inside the ZIP archive")]
    Damaged,
}

impl EntryError {
    /// The reason in a person's language.
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (Self::Encrypted, Lang::Ro) => "fișierul este criptat".into(),
            (Self::Method(_), Lang::Ro) => {
                "fișierul este comprimat printr-o metodă care nu este citită".into()
            }
            (Self::Damaged, Lang::Ro) => "fișierul este deteriorat în arhiva ZIP".into(),
        }
    }
}

/// One file of the archive.
#[derive(Debug)]
pub struct Entry {
    /// Its name in the archive, folders included.
    pub name: String,
    /// Its bytes, or why they could not be read.
    pub content: Result<Vec<u8>, EntryError>,
}

/// What the central directory says of one entry.
#[derive(Debug, Clone)]
struct Header {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
}

/// A ZIP archive whose central directory has been read and checked against the bounds.
#[derive(Debug)]
pub struct Archive<'a> {
    bytes: &'a [u8],
    headers: Vec<Header>,
    limits: ZipLimits,
}

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Whether the bytes start like a ZIP archive (a local header, or the end record of an empty one).
pub fn looks_like_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

impl<'a> Archive<'a> {
    /// Reads the central directory of `bytes` and checks what it declares against `limits`.
    ///
    /// # Errors
    ///
    /// [`ZipError`] when the bytes are no ZIP we read, or it declares more than the bounds.
    pub fn open(bytes: &'a [u8], limits: ZipLimits) -> Result<Archive<'a>, ZipError> {
        let eocd = find_eocd(bytes).ok_or(ZipError::NotZip)?;
        let disk = u16_at(bytes, eocd + 4).ok_or(ZipError::NotZip)?;
        let cd_disk = u16_at(bytes, eocd + 6).ok_or(ZipError::NotZip)?;
        let on_disk = u16_at(bytes, eocd + 8).ok_or(ZipError::NotZip)?;
        let count = u16_at(bytes, eocd + 10).ok_or(ZipError::NotZip)?;
        let cd_size = u32_at(bytes, eocd + 12).ok_or(ZipError::NotZip)?;
        let cd_offset = u32_at(bytes, eocd + 16).ok_or(ZipError::NotZip)?;
        if disk != 0 || cd_disk != 0 || on_disk != count {
            return Err(ZipError::Unsupported);
        }
        if count == u16::MAX || cd_size == u32::MAX || cd_offset == u32::MAX {
            return Err(ZipError::Unsupported);
        }
        let count = usize::from(count);
        if count > limits.max_entries {
            return Err(ZipError::TooManyEntries {
                found: count,
                max: limits.max_entries,
            });
        }
        let cd_start = cd_offset as usize;
        let cd_end = cd_start
            .checked_add(cd_size as usize)
            .filter(|end| *end <= eocd)
            .ok_or(ZipError::Damaged(
                "the central directory lies outside the archive",
            ))?;
        let directory = &bytes[cd_start..cd_end];

        let mut headers = Vec::with_capacity(count);
        let mut at = 0;
        let mut declared_total: u64 = 0;
        for _ in 0..count {
            let header = central_header(directory, &mut at)?;
            if header.uncompressed > limits.max_entry_bytes {
                return Err(too_large(limits.max_entry_bytes));
            }
            declared_total = declared_total.saturating_add(header.uncompressed);
            if declared_total > limits.max_total_bytes {
                return Err(too_large(limits.max_total_bytes));
            }
            if header.uncompressed > RATIO_FLOOR
                && header.uncompressed / header.compressed.max(1) > limits.max_ratio
            {
                return Err(ZipError::Bomb("compressed far more than any document"));
            }
            headers.push(header);
        }
        Ok(Archive {
            bytes,
            headers,
            limits,
        })
    }

    /// How many entries the archive has, directories included.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether the archive has no entry at all.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Reads every file (directories are left out), in the central directory's order.
    ///
    /// The bounds hold on the bytes actually inflated, whatever the headers said; each
    /// entry's data is checked against its CRC.
    ///
    /// # Errors
    ///
    /// [`ZipError`] when an entry holds more than its header declared, or the entries
    /// together unpack beyond the bounds.
    pub fn files(&self) -> Result<Vec<Entry>, ZipError> {
        let mut total: u64 = 0;
        let mut files = Vec::new();
        for header in &self.headers {
            if header.name.ends_with('/') && header.uncompressed == 0 {
                continue;
            }
            let content = self.read(header)?;
            if let Ok(bytes) = &content {
                total += bytes.len() as u64;
                if total > self.limits.max_total_bytes {
                    return Err(too_large(self.limits.max_total_bytes));
                }
            }
            files.push(Entry {
                name: header.name.clone(),
                content,
            });
        }
        Ok(files)
    }

    /// One entry's bytes: `Err(ZipError)` stops the archive, `Ok(Err(..))` skips the entry.
    fn read(&self, header: &Header) -> Result<Result<Vec<u8>, EntryError>, ZipError> {
        if header.flags & 1 != 0 {
            return Ok(Err(EntryError::Encrypted));
        }
        let local = usize::try_from(header.local_offset)
            .map_err(|_| ZipError::Damaged("an entry lies outside the archive"))?;
        if u32_at(self.bytes, local) != Some(LOCAL_SIGNATURE) {
            return Err(ZipError::Damaged("an entry's local header is missing"));
        }
        let name_len = u16_at(self.bytes, local + 26).ok_or(ZipError::NotZip)?;
        let extra_len = u16_at(self.bytes, local + 28).ok_or(ZipError::NotZip)?;
        let start = local + LOCAL_LEN + usize::from(name_len) + usize::from(extra_len);
        let data = usize::try_from(header.compressed)
            .ok()
            .and_then(|len| self.bytes.get(start..start.checked_add(len)?))
            .ok_or(ZipError::Damaged("an entry lies outside the archive"))?;

        // One byte more than declared is read, to tell "as declared" from "more than declared".
        let cap = header.uncompressed + 1;
        let mut out = Vec::with_capacity(usize::try_from(header.uncompressed).unwrap_or(0));
        let read = match header.method {
            0 => data.take(cap).read_to_end(&mut out),
            8 => flate2::read::DeflateDecoder::new(data)
                .take(cap)
                .read_to_end(&mut out),
            other => return Ok(Err(EntryError::Method(other))),
        };
        if read.is_err() {
            return Ok(Err(EntryError::Damaged));
        }
        if out.len() as u64 > header.uncompressed {
            return Err(ZipError::Bomb("a file holds more than its header declares"));
        }
        if out.len() as u64 != header.uncompressed || crc32fast::hash(&out) != header.crc {
            return Ok(Err(EntryError::Damaged));
        }
        Ok(Ok(out))
    }
}

fn too_large(bytes: u64) -> ZipError {
    ZipError::TooLarge {
        max_mb: bytes / (1024 * 1024),
    }
}

/// The offset of the end-of-central-directory record: the last signature whose comment
/// length reaches exactly the end of the bytes.
fn find_eocd(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| {
        u32_at(bytes, at) == Some(EOCD_SIGNATURE)
            && u16_at(bytes, at + 20).map(usize::from) == Some(bytes.len() - at - EOCD_LEN)
    })
}

/// Reads the central directory header at `*at` and moves past it.
fn central_header(directory: &[u8], at: &mut usize) -> Result<Header, ZipError> {
    let damaged = ZipError::Damaged("the central directory is cut short");
    let base = *at;
    if u32_at(directory, base) != Some(CENTRAL_SIGNATURE) {
        return Err(damaged);
    }
    let field16 = |offset| u16_at(directory, base + offset).ok_or(damaged.clone());
    let field32 = |offset| u32_at(directory, base + offset).ok_or(damaged.clone());
    let flags = field16(8)?;
    let method = field16(10)?;
    let crc = field32(16)?;
    let compressed = field32(20)?;
    let uncompressed = field32(24)?;
    let name_len = usize::from(field16(28)?);
    let extra_len = usize::from(field16(30)?);
    let comment_len = usize::from(field16(32)?);
    let local_offset = field32(42)?;
    if [compressed, uncompressed, local_offset].contains(&u32::MAX) {
        return Err(ZipError::Unsupported);
    }
    let name_start = base + CENTRAL_LEN;
    let name = directory
        .get(name_start..name_start + name_len)
        .ok_or(damaged.clone())?;
    *at = name_start + name_len + extra_len + comment_len;
    if *at > directory.len() {
        return Err(damaged);
    }
    Ok(Header {
        // Bit 11 says UTF-8; older tools write CP 437, which for the ASCII names SPV
        // uses is the same. Anything else is shown as best we can.
        name: String::from_utf8_lossy(name).into_owned(),
        flags,
        method,
        crc,
        compressed: u64::from(compressed),
        uncompressed: u64::from(uncompressed),
        local_offset: u64::from(local_offset),
    })
}
