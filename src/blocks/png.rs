//! A small PNG encoder for the images ledgerbot makes itself: QR codes
//! (1-bit greyscale) and charts (8-bit RGB). A PNG is a signature and three
//! chunks (header, the deflated scanlines, end), each with its CRC-32; the
//! deflate is flate2's (already here for e-Factura ZIPs) and the CRC
//! crc32fast's, so this stays a page rather than the `png` or `image` crates
//! with their decoders, formats and features in every build.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;

/// How the bytes of a scanline are pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixels {
    /// One bit a pixel, 0 dark, 1 light, eight pixels a byte.
    Bilevel,
    /// Three bytes a pixel: red, green, blue.
    Rgb,
}

impl Pixels {
    /// PNG's bit depth and colour type.
    fn header(self) -> [u8; 2] {
        match self {
            Self::Bilevel => [1, 0],
            Self::Rgb => [8, 2],
        }
    }

    /// Bytes of one row of `width` pixels, without the filter byte.
    pub fn row_bytes(self, width: u32) -> usize {
        let width = width as usize;
        match self {
            Self::Bilevel => width.div_ceil(8),
            Self::Rgb => width * 3,
        }
    }
}

/// A PNG of `width` × `height` pixels from `rows`: each row its filter byte
/// (0, none, is all we write) then [`Pixels::row_bytes`] bytes.
///
/// # Panics
/// `rows` is not `height` rows of that length: a bug in the caller.
pub fn encode(width: u32, height: u32, pixels: Pixels, rows: &[u8]) -> Vec<u8> {
    assert_eq!(
        rows.len(),
        (pixels.row_bytes(width) + 1) * height as usize,
        "the scanlines fill the image exactly"
    );
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&pixels.header());
    // Deflate, adaptive filtering, no interlacing.
    header.extend_from_slice(&[0, 0, 0]);

    let mut zlib = ZlibEncoder::new(Vec::with_capacity(rows.len() / 8), Compression::default());
    let deflated = zlib
        .write_all(rows)
        .and_then(|()| zlib.finish())
        .expect("writing to a Vec cannot fail");

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    write_chunk(&mut png, b"IHDR", &header);
    write_chunk(&mut png, b"IDAT", &deflated);
    write_chunk(&mut png, b"IEND", &[]);
    png
}

/// An 8-bit RGB PNG from a buffer of `width` × `height` pixels without
/// filter bytes, as a drawing library leaves it.
///
/// # Panics
/// `rgb` is not that many pixels: a bug in the caller.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let row = Pixels::Rgb.row_bytes(width);
    assert_eq!(
        rgb.len(),
        row * height as usize,
        "the buffer fills the image"
    );
    let mut rows = Vec::with_capacity((row + 1) * height as usize);
    for line in rgb.chunks_exact(row) {
        rows.push(0);
        rows.extend_from_slice(line);
    }
    encode(width, height, Pixels::Rgb, &rows)
}

fn write_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("a chunk is far below 4 GiB");
    png.extend_from_slice(&len.to_be_bytes());
    let crc_start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32fast::hash(&png[crc_start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// Decodes with an independent decoder, checksums verified.
    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut options = png::DecodeOptions::default();
        options.set_ignore_adler32(false);
        options.set_ignore_crc(false);
        let decoder = png::Decoder::new_with_options(Cursor::new(bytes), options);
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a small image")];
        let frame = reader.next_frame(&mut pixels).expect("valid PNG data");
        pixels.truncate(frame.buffer_size());
        (frame, pixels)
    }

    #[test]
    fn rgb_image_decodes_to_the_same_pixels() {
        // Arrange: a 3 × 2 image, every pixel different.
        let rgb: Vec<u8> = (0..18).map(|i| i * 13).collect();

        // Act
        let bytes = encode_rgb(3, 2, &rgb);

        // Assert
        let (frame, pixels) = decode(&bytes);
        assert_eq!((frame.width, frame.height), (3, 2));
        assert_eq!(frame.color_type, png::ColorType::Rgb);
        assert_eq!(frame.bit_depth, png::BitDepth::Eight);
        assert_eq!(pixels, rgb);
    }

    #[test]
    fn bilevel_image_decodes_to_the_same_bits() {
        // 10 pixels wide: two bytes a row, the last six bits padding.
        let rows = [0, 0b1010_1010, 0b1100_0000, 0, 0b0101_0101, 0b0100_0000];
        let (frame, pixels) = decode(&encode(10, 2, Pixels::Bilevel, &rows));
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        assert_eq!(frame.bit_depth, png::BitDepth::One);
        assert_eq!(pixels, [0b1010_1010, 0b1100_0000, 0b0101_0101, 0b0100_0000]);
    }

    #[test]
    fn flat_colour_compresses() {
        let rgb = vec![200; 600 * 400 * 3];
        let bytes = encode_rgb(600, 400, &rgb);
        assert!(bytes.len() < 10_000, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes).1, rgb);
    }
}
