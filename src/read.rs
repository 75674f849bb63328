//! Stage 1, read and decode.
//!
//! In: paths given on the command line (files or folders, searched
//! recursively for `.txt`). Out: [`Source`]s holding the decoded text, the
//! detected encoding and a content hash, or a [`ReadError`] per file that
//! could not be read or decoded, so the caller can report it by name and go on.

use std::fmt;
use std::path::{Path, PathBuf};

use encoding_rs::{BIG5, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};
use sha2::{Digest, Sha256};

/// One decoded input file.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name without folders, as the contract's `jd:sourceFile` wants it.
    pub name: String,
    /// The path as found.
    pub path: PathBuf,
    /// The decoded text (BOM removed).
    pub text: String,
    /// Name of the detected encoding (`UTF-8`, `UTF-16LE`, `GB18030`, `Big5` …).
    pub encoding: &'static str,
    /// Lower-case hex SHA-256 of the raw bytes.
    pub sha256: String,
    /// Size of the raw file in bytes.
    pub byte_len: usize,
}

impl Source {
    /// The first 16 hex digits of the content hash: the key used in IRIs.
    pub fn key(&self) -> &str {
        &self.sha256[..16]
    }

    /// Decodes bytes that came from somewhere other than a file (tests, stdin).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Source, ReadError> {
        let path = PathBuf::from(name);
        let (text, encoding) = decode(bytes).map_err(|reason| ReadError {
            path: path.clone(),
            reason,
        })?;
        Ok(Source {
            name: file_name(&path),
            path,
            text,
            encoding,
            sha256: hex_sha256(bytes),
            byte_len: bytes.len(),
        })
    }
}

/// Why a file could not become a [`Source`].
#[derive(Debug, Clone)]
pub struct ReadError {
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for ReadError {}

/// Lists the input files under `inputs`, in a deterministic order: each
/// argument in the order given, folders walked recursively in byte order of
/// their entries, keeping files ending in `.txt` (any case). A file named
/// directly is kept whatever its extension. Paths that do not exist or cannot
/// be listed come back as errors.
pub fn list_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<ReadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(meta) if meta.is_dir() => walk(input, &mut files, &mut errors),
            Ok(_) => files.push(input.clone()),
            Err(e) => errors.push(ReadError {
                path: input.clone(),
                reason: format!("cannot open: {e}"),
            }),
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<ReadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(ReadError {
                path: dir.to_path_buf(),
                reason: format!("cannot list folder: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, errors);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
        {
            files.push(path);
        }
    }
}

/// Reads and decodes one file.
pub fn read_source(path: &Path) -> Result<Source, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError {
        path: path.to_path_buf(),
        reason: format!("cannot read: {e}"),
    })?;
    // Hashed before the text takes the bytes over (valid UTF-8 becomes
    // the text without a copy).
    let sha256 = hex_sha256(&bytes);
    let byte_len = bytes.len();
    let (text, encoding) = decode_owned(bytes).map_err(|reason| ReadError {
        path: PathBuf::from(path.to_string_lossy().as_ref()),
        reason,
    })?;
    Ok(Source {
        name: file_name(path),
        path: path.to_path_buf(),
        text,
        encoding,
        sha256,
        byte_len,
    })
}

/// [`decode`] of bytes it may keep: UTF-8 without a BOM becomes the text
/// as it is.
fn decode_owned(bytes: Vec<u8>) -> Result<(String, &'static str), String> {
    if Encoding::for_bom(&bytes).is_some() {
        return decode(&bytes);
    }
    // encoding_rs checks UTF-8 with SIMD (simdutf8, AVX2 or SSE 4.2 where
    // the CPU has them, the standard library's check otherwise); on Chinese
    // text, where every char is multi-byte, that is several times faster
    // than `String::from_utf8`, whose check was 2 % of extraction.
    if Encoding::utf8_valid_up_to(&bytes) != bytes.len() {
        return decode(&bytes);
    }
    // (memchr's SIMD search: the slice's own `contains` reads a word at a
    // time and cost 1 % of extraction)
    if memchr::memchr(0, &bytes).is_some() {
        return Err("binary data: the file holds NUL bytes".into());
    }
    // SAFETY: `utf8_valid_up_to` has just found all of `bytes` valid UTF-8.
    let text = unsafe { String::from_utf8_unchecked(bytes) };
    Ok((text, UTF_8.name()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Decodes raw bytes, detecting the encoding from the content:
/// a BOM first (UTF-8, UTF-16LE/BE), then strict UTF-8, then UTF-16 without a
/// BOM (recognised by its zero bytes), then chardetng's guess limited to the
/// legacy Chinese encodings (GB18030, which covers GBK and GB2312, and Big5).
/// Binary data (NUL bytes that are not UTF-16, or undecodable bytes) is an error.
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), String> {
    if bytes.is_empty() {
        return Ok((String::new(), "UTF-8"));
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(format!(
                "not valid {} although it starts with its byte-order mark",
                encoding.name()
            ));
        }
        return Ok((text.into_owned(), encoding.name()));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains('\0') {
            return Err("binary data: the file holds NUL bytes".into());
        }
        return Ok((text.to_owned(), UTF_8.name()));
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
        if !had_errors && !text.contains('\0') {
            return Ok((text.into_owned(), encoding.name()));
        }
    }
    if bytes.contains(&0) {
        return Err("binary data: the file holds NUL bytes and is not UTF-16".into());
    }
    // Chinese news comes in GB-family or Big5 encodings. GB18030 decodes
    // almost any byte pairs without error, so decode with both and keep the
    // one that reads as text: fewest private-use and rare characters. Each
    // decoder stops at its first malformed byte (GBK text is seldom valid
    // Big5), and chardetng, which costs more than both decodings together,
    // is asked only to break a tie, on the opening of the file.
    let mut candidates: Vec<(usize, String, &'static Encoding)> = Vec::with_capacity(2);
    for encoding in [GB18030, BIG5] {
        let Some(text) = decode_strict(encoding, bytes) else {
            continue;
        };
        if looks_like_text(&text) {
            candidates.push((oddness(&text), text, encoding));
        }
    }
    let fewest = candidates.iter().map(|c| c.0).min();
    candidates.retain(|c| Some(c.0) == fewest);
    if candidates.len() > 1 {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        let prefix = &bytes[..bytes.len().min(CHARDET_PREFIX)];
        detector.feed(prefix, prefix.len() == bytes.len());
        let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
        if let Some(i) = candidates.iter().position(|c| c.2 == guess) {
            candidates.swap(0, i);
        }
    }
    match candidates.into_iter().next() {
        Some((_, text, encoding)) => Ok((text, encoding.name())),
        None => Err("cannot decode: not UTF-8, UTF-16, GB18030/GBK or Big5 text".into()),
    }
}

/// How much of a file chardetng reads when two legacy decodings tie.
const CHARDET_PREFIX: usize = 64 * 1024;

/// Decodes all of `bytes` with `encoding`, or nothing at the first
/// malformed sequence (without decoding the rest).
fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(bytes.len())?;
    let mut text = String::with_capacity(capacity);
    let (result, _read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Some(text),
        _ => None,
    }
}

/// UTF-16 text without a BOM has a zero in every other byte for ASCII and
/// many zeros overall; decide the byte order from where the zeros sit.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let even_zeros = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_zeros = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    let pairs = sample.len() / 2;
    if odd_zeros * 4 >= pairs && even_zeros * 20 < pairs {
        Some(UTF_16LE)
    } else if even_zeros * 4 >= pairs && odd_zeros * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// How unlike Chinese text a decoding is: private-use characters, rare
/// ideograph blocks and replacement characters, which a wrong legacy
/// decoding produces and real text hardly has.
fn oddness(text: &str) -> usize {
    text.chars()
        .filter(|&c| {
            matches!(c as u32,
                0xE000..=0xF8FF | 0x3400..=0x4DBF | 0x20000..=0x2FFFF | 0xFFFD
                | 0xF900..=0xFAFF | 0x2E80..=0x2FDF | 0x3100..=0x312F | 0xFE10..=0xFE4F)
        })
        .count()
}

/// Rejects decodings full of control characters (binary data that happens
/// to pass a legacy decoder).
fn looks_like_text(text: &str) -> bool {
    let total = text.chars().count().max(1);
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    control * 100 < total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_with_and_without_bom() {
        let (t, e) = decode("禁毒".as_bytes()).unwrap();
        assert_eq!((t.as_str(), e), ("禁毒", "UTF-8"));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("禁毒".as_bytes());
        let (t, e) = decode(&bom).unwrap();
        assert_eq!((t.as_str(), e), ("禁毒", "UTF-8"));
    }

    #[test]
    fn decodes_utf16_with_bom_and_without() {
        let text = "开鲁县公安局破获毒品案件3起。";
        let mut le = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&le).unwrap(), (text.to_string(), "UTF-16LE"));
        let ascii_heavy = "Case 2017-311A: 海洛因 15 kg";
        let mut be = Vec::new();
        for u in ascii_heavy.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&be).unwrap(), (ascii_heavy.to_string(), "UTF-16BE"));
    }

    #[test]
    fn decodes_gbk_and_big5() {
        let text =
            "内蒙古自治区公安厅禁毒总队缴获海洛因4.1公斤。全区公安机关深入开展清源断流行动。";
        let (gbk, _, _) = GB18030.encode(text);
        assert_eq!(decode(&gbk).unwrap(), (text.to_string(), "gb18030"));
        let trad = "廣西出入境邊防檢查總站破獲毒品刑事案件122起，緝毒警察繳獲海洛因。";
        let (big5, _, _) = BIG5.encode(trad);
        assert_eq!(decode(&big5).unwrap(), (trad.to_string(), "Big5"));
    }

    #[test]
    fn rejects_binary() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(2048).collect();
        assert!(decode(&bytes).is_err());
    }

    #[test]
    fn decoding_owned_bytes_is_decoding_borrowed_ones() {
        let text = "开鲁县公安局破获毒品案件3起。";
        let mut inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            text.as_bytes().to_vec(),
            [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            b"a\0b".to_vec(),
            GB18030.encode(text).0.into_owned(),
            BIG5.encode("廣西出入境邊防檢查總站").0.into_owned(),
            (0..=255u8).cycle().take(2048).collect(),
        ];
        let mut le = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        inputs.push(le);
        for bytes in inputs {
            assert_eq!(decode_owned(bytes.clone()), decode(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn empty_is_empty_text() {
        assert_eq!(decode(b"").unwrap(), (String::new(), "UTF-8"));
    }
}
