//! QR codes of short texts, in practice the deep link `https://t.me/<bot>?start=<code>`
//! that a phone scans from the link page to open the bot with the code filled in.
//!
//! Both images have a quiet zone of 4 modules (the margin scanners need) and 8 pixels per
//! module. The PNG comes from our small encoder ([`crate::blocks::png`]), 1 bit a pixel.

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
    Ok(crate::blocks::png::encode(
        side,
        side,
        crate::blocks::png::Pixels::Bilevel,
        &pixels,
    ))
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
    fn png_of_long_data_still_scans() {
        // Over 65 535 bytes of scanlines: more than one deflate block.
        let data = format!("https://example.com/{}", "x".repeat(600));
        let bytes = png(&data).unwrap();
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
}
