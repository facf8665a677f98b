//! `precompress DIR…`: writes `NAME.gz` beside every HTML, JavaScript, CSS, wasm and
//! SVG file directly in each DIR (not in subdirectories: those hold Monaco's hundreds of
//! files, which only the profile editor loads and the server may compress as it sends).
//!
//! The console's bundles are built once and downloaded on every first visit, so they
//! are worth compressing as hard as gzip allows: Zopfli writes ordinary gzip about 4 %
//! smaller than `gzip -9`, at a cost of seconds paid at build time only. Any server that
//! serves `.gz` siblings (the local gateway, nginx's `gzip_static`, most CDNs) sends
//! them as they are.

use std::path::Path;

use anyhow::Context;

const COMPRESSED_EXTENSIONS: [&str; 5] = ["html", "js", "css", "wasm", "svg"];

fn main() -> anyhow::Result<()> {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(!dirs.is_empty(), "usage: precompress DIR…");
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {dir}"))? {
            let path = entry?.path();
            if path.is_file() && is_compressed_kind(&path) {
                compress(&path)?;
            }
        }
    }
    Ok(())
}

fn is_compressed_kind(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSED_EXTENSIONS.contains(&e))
}

fn compress(path: &Path) -> anyhow::Result<()> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut gzip = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        data.as_slice(),
        &mut gzip,
    )
    .with_context(|| format!("compressing {}", path.display()))?;
    let mut target = path.as_os_str().to_owned();
    target.push(".gz");
    std::fs::write(&target, gzip).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn writes_gzip_that_decompresses_to_the_file() {
        let dir = std::env::temp_dir().join(format!("precompress-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wasm = dir.join("app_bg.wasm");
        let original: Vec<u8> = (0..5_000u32)
            .flat_map(|n| (n % 251).to_le_bytes())
            .collect();
        std::fs::write(&wasm, &original).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a bundle file").unwrap();

        compress(&wasm).unwrap();
        let gzip = std::fs::read(dir.join("app_bg.wasm.gz")).unwrap();
        let mut restored = Vec::new();
        flate2::read::GzDecoder::new(gzip.as_slice())
            .read_to_end(&mut restored)
            .unwrap();
        assert_eq!(restored, original);
        assert!(gzip.len() < original.len() / 4);
        assert!(!is_compressed_kind(&dir.join("notes.txt")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
