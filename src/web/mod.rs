//! What browsers fetch outside the JSON API: the QR images of link codes.

pub mod qr;
