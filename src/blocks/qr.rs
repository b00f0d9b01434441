//! QR codes of short texts, in practice the deep link `https://t.me/<bot>?start=<code>`
//! that a phone scans from the link page to open the bot with the code filled in.
//!
//! Both images have a quiet zone of 4 modules (the margin scanners need) and 8 pixels per
//! module. The PNG comes from a small encoder here (stored deflate blocks, CRC-32,
//! Adler-32) rather than the `png` crate: it is about fifty lines against five more crates
//! in every build, and a ~10 KiB uncompressed image of a short link costs nothing to serve.

use qrcode::render::svg;
use qrcode::{Color, QrCode};

/// Pixels per module. At 8, one module of a 1-bit row is exactly one byte.
const MODULE_PX: usize = 8;

/// Width of the light margin, in modules, that the QR standard asks for.
const QUIET_ZONE: usize = 4;

/// The text does not fit in a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the text is too long for a QR code")]
pub struct TooLong;

/// An SVG image of the QR code of `data`, black on white, with `width`, `height` and a
/// `viewBox`, so it shows at its natural size (8 px a module) or scales with CSS without
/// blurring.
///
/// # Errors
///
/// [`TooLong`] if `data` exceeds what a QR code holds (about 2 300 bytes).
pub fn svg(data: &str) -> Result<String, TooLong> {
    let code = QrCode::new(data).map_err(|_| TooLong)?;
    let px = u32::try_from(MODULE_PX).expect("the module size is small");
    Ok(code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(px, px)
        .build())
}

/// A PNG image of the QR code of `data`: 1-bit greyscale, black on white.
///
/// # Errors
///
/// [`TooLong`] if `data` exceeds what a QR code holds (about 2 300 bytes).
pub fn png(data: &str) -> Result<Vec<u8>, TooLong> {
    let code = QrCode::new(data).map_err(|_| TooLong)?;
    let modules = code.width();
    let side_modules = modules + 2 * QUIET_ZONE;

    // Each scanline is a filter byte (0, none) and one byte per module: 0x00 dark,
    // 0xFF light; a row of modules is MODULE_PX identical scanlines.
    let mut pixels = Vec::with_capacity((side_modules + 1) * side_modules * MODULE_PX);
    let light_row = vec![0xFF; side_modules];
    for y in 0..side_modules {
        let scanline: Vec<u8> = match y.checked_sub(QUIET_ZONE).filter(|&y| y < modules) {
            None => light_row.clone(),
            Some(y) => (0..side_modules)
                .map(
                    |x| match x.checked_sub(QUIET_ZONE).filter(|&x| x < modules) {
                        Some(x) if code[(x, y)] == Color::Dark => 0x00,
                        _ => 0xFF,
                    },
                )
                .collect(),
        };
        for _ in 0..MODULE_PX {
            pixels.push(0);
            pixels.extend_from_slice(&scanline);
        }
    }
    let side =
        u32::try_from(side_modules * MODULE_PX).expect("a QR code is under 200 modules wide");
    Ok(encode_png(side, &pixels))
}

/// A square 1-bit greyscale PNG of `side` pixels, from filtered scanlines.
fn encode_png(side: u32, scanlines: &[u8]) -> Vec<u8> {
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    // Bit depth 1, greyscale, deflate, adaptive filtering, no interlacing.
    header.extend_from_slice(&[1, 0, 0, 0, 0]);

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    write_chunk(&mut png, b"IHDR", &header);
    write_chunk(&mut png, b"IDAT", &zlib_stored(scanlines));
    write_chunk(&mut png, b"IEND", &[]);
    png
}

fn write_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("a chunk is far below 4 GiB");
    png.extend_from_slice(&len.to_be_bytes());
    let crc_start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[crc_start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed ("stored") deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = u16::MAX as usize;
    let mut out = Vec::with_capacity(data.len() + data.len() / MAX_BLOCK * 5 + 11);
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x01: no dictionary, and makes
    // 0x7801 a multiple of 31 as the header check requires.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    while let Some(block) = blocks.next() {
        let is_final = blocks.peek().is_none();
        // BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2.
        out.push(u8::from(is_final));
        let len = u16::try_from(block.len()).expect("blocks are at most u16::MAX bytes");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// CRC-32 as PNG uses it (ISO 3309, reflected polynomial 0xEDB88320), bit by bit: a
/// table would be faster, but a QR image is a few kilobytes.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        (0..8).fold(crc ^ u32::from(byte), |crc, _| {
            if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            }
        })
    })
}

/// Adler-32, zlib's checksum of the uncompressed data.
fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (a, b) = bytes.iter().fold((1u32, 0u32), |(a, b), &byte| {
        let a = (a + u32::from(byte)) % MOD;
        (a, (b + a) % MOD)
    });
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    const DEEP_LINK: &str = "https://t.me/ledgerbot_test_bot?start=K7TQ3MXA";

    /// Decodes a PNG with an independent decoder (checksums verified) into greyscale
    /// pixels and their side.
    fn decode_png(bytes: &[u8]) -> (usize, Vec<u8>) {
        let mut options = png::DecodeOptions::default();
        options.set_ignore_adler32(false);
        let mut decoder = png::Decoder::new_with_options(Cursor::new(bytes), options);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a small image")];
        let frame = reader.next_frame(&mut pixels).expect("valid PNG data");
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        assert_eq!(frame.width, frame.height);
        pixels.truncate(frame.buffer_size());
        (frame.width as usize, pixels)
    }

    /// Reads the QR code in a greyscale image, as a scanner would.
    fn scan(side: usize, pixels: &[u8]) -> String {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code in the image");
        let (_, text) = grids[0].decode().expect("a readable QR code");
        text
    }

    #[test]
    fn png_scans_back_to_the_deep_link() {
        // Arrange
        let data = DEEP_LINK;

        // Act
        let bytes = png(data).unwrap();

        // Assert
        let (side, pixels) = decode_png(&bytes);
        assert!(
            pixels.iter().all(|&p| p == 0 || p == 255),
            "pure black and white"
        );
        assert_eq!(scan(side, &pixels), data);
    }

    #[test]
    fn png_has_the_quiet_zone_and_module_size() {
        let code = QrCode::new(DEEP_LINK).unwrap();
        let (side, pixels) = decode_png(&png(DEEP_LINK).unwrap());
        assert_eq!(side, (code.width() + 2 * QUIET_ZONE) * MODULE_PX);
        let margin = QUIET_ZONE * MODULE_PX;
        for y in 0..side {
            for x in 0..side {
                let in_margin =
                    x < margin || y < margin || x >= side - margin || y >= side - margin;
                if in_margin {
                    assert_eq!(pixels[y * side + x], 255, "({x}, {y}) is in the quiet zone");
                }
            }
        }
        // The top-left finder pattern's corner is dark.
        assert_eq!(pixels[margin * side + margin], 0);
    }

    #[test]
    fn png_of_long_data_spans_several_deflate_blocks_and_still_scans() {
        // Over 65 535 bytes of scanlines needs a second stored block.
        let data = format!("https://example.com/{}", "x".repeat(600));
        let bytes = png(&data).unwrap();
        assert!(bytes.len() > 70_000, "{} bytes", bytes.len());
        let (side, pixels) = decode_png(&bytes);
        assert_eq!(scan(side, &pixels), data);
    }

    #[test]
    fn too_long_data_is_an_error() {
        let data = "x".repeat(5_000);
        assert_eq!(png(&data), Err(TooLong));
        assert_eq!(svg(&data), Err(TooLong));
    }

    #[test]
    fn svg_is_scalable_and_well_formed() {
        let code = QrCode::new(DEEP_LINK).unwrap();
        let side = (code.width() + 2 * QUIET_ZONE) * MODULE_PX;

        let image = svg(DEEP_LINK).unwrap();

        assert!(
            image.contains(r#"<svg xmlns="http://www.w3.org/2000/svg""#),
            "{image}"
        );
        assert!(
            image.contains(&format!(r#"width="{side}" height="{side}""#)),
            "{image}"
        );
        assert!(
            image.contains(&format!(r#"viewBox="0 0 {side} {side}""#)),
            "{image}"
        );
        assert!(image.trim_end().ends_with("</svg>"));
        assert_eq!(image.matches("<svg").count(), 1);
        assert_eq!(
            image.matches('"').count() % 2,
            0,
            "attribute quotes are balanced"
        );
    }

    #[test]
    fn svg_scans_back_to_the_deep_link() {
        // Rasterise the path's rectangles ("M{x} {y}h{w}v{h}H{x}V{y}") onto a white
        // canvas, then scan it like the PNG.
        let image = svg(DEEP_LINK).unwrap();
        let side = (QrCode::new(DEEP_LINK).unwrap().width() + 2 * QUIET_ZONE) * MODULE_PX;
        let path = image
            .split(" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let mut pixels = vec![255u8; side * side];
        for rect in path.split('M').filter(|r| !r.is_empty()) {
            let numbers: Vec<usize> = rect
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().unwrap())
                .collect();
            let [left, top, width, height, ..] = numbers[..] else {
                panic!("unexpected path segment {rect:?}");
            };
            for y in top..top + height {
                pixels[y * side + left..y * side + left + width].fill(0);
            }
        }
        assert_eq!(scan(side, &pixels), DEEP_LINK);
    }

    #[test]
    fn checksums_match_their_reference_values() {
        // CRC-32's standard check value, and Wikipedia's Adler-32 example.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn zlib_stored_frames_one_block_by_hand() {
        let expected = [
            0x78, 0x01, // zlib header
            0x01, 0x03, 0x00, 0xFC, 0xFF, // final stored block of 3 bytes, and !3
            b'a', b'b', b'c', //
            0x02, 0x4D, 0x01, 0x27, // Adler-32 of "abc"
        ];
        assert_eq!(zlib_stored(b"abc"), expected);
    }
}
