//! Lower-case hex of digests (checksum annotations, content-hashed names, pack container names):
//! one table lookup per nibble instead of a `format!` per byte, which dominated large renders.

/// `bytes` as lower-case hex, two digits per byte (Go's `%x` of a byte slice).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn two_lower_case_digits_per_byte() {
        for (bytes, want) in [
            (&[][..], ""),
            (&[0x00][..], "00"),
            (&[0x0f, 0xa0, 0xff][..], "0fa0ff"),
            (
                &[1, 35, 69, 103, 137, 171, 205, 239][..],
                "0123456789abcdef",
            ),
        ] {
            assert_eq!(hex(bytes), want);
        }
    }
}
