//! A sandbox's log as the pane holds it: bytes as they arrive, cut into lines (a chunk
//! may end mid-line), each line's colours read into styled runs once, and at most
//! `capacity` lines kept so a log of millions of lines keeps memory bounded. Lines are
//! numbered from the start of the log, so dropped lines are still counted.

use std::collections::VecDeque;

use sandbox_api::ansi::{self, Span, Style};

/// One complete line.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// 1 for the log's first line.
    pub number: u64,
    pub spans: Vec<Span>,
    /// When the chunk that ended this line was written, as the server gave it.
    pub timestamp: Option<String>,
}

impl LogLine {
    /// The line without styling, as a download or a search sees it.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    /// Lines dropped from the front to respect `capacity`.
    dropped: u64,
    /// Bytes after the last newline.
    partial: Vec<u8>,
    /// The style the last complete line ended in.
    style: Style,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            partial: Vec::new(),
            style: Style::default(),
        }
    }

    /// Adds a chunk of output written at `timestamp`.
    pub fn push(&mut self, data: &[u8], timestamp: Option<String>) {
        let mut rest = data;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            let bytes = std::mem::take(&mut self.partial);
            self.add_line(&bytes, timestamp.clone());
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// Ends the log: a last line without a newline becomes a line.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            let bytes = std::mem::take(&mut self.partial);
            self.add_line(&bytes, None);
        }
    }

    fn add_line(&mut self, bytes: &[u8], timestamp: Option<String>) {
        let text = String::from_utf8_lossy(bytes);
        // A carriage return before the newline (CRLF output) is not part of the line.
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let (spans, style) = ansi::parse_line(text, self.style);
        self.style = style;
        let number = self.dropped + self.lines.len() as u64 + 1;
        self.lines.push_back(LogLine {
            number,
            spans,
            timestamp,
        });
        if self.lines.len() > self.capacity {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    /// Complete lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Complete lines dropped from the front.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The `index`th line held (0 is the oldest held).
    pub fn line(&self, index: usize) -> Option<&LogLine> {
        self.lines.get(index)
    }

    /// The text after the last newline, shown while the sandbox may still add to it.
    pub fn partial(&self) -> String {
        let text = String::from_utf8_lossy(&self.partial);
        ansi::strip(&text)
    }

    /// Every held line as plain text, one per line, for a download.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&line.text());
            out.push('\n');
        }
        out.push_str(&self.partial());
        out
    }

    /// Indexes (as for `line`) of the held lines whose text contains `needle`,
    /// ignoring case.
    pub fn find(&self, needle: &str) -> Vec<usize> {
        if needle.is_empty() {
            return Vec::new();
        }
        let needle = needle.to_lowercase();
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.text().to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(buffer: &LogBuffer) -> Vec<String> {
        (0..buffer.len())
            .filter_map(|i| buffer.line(i))
            .map(LogLine::text)
            .collect()
    }

    #[test]
    fn chunks_are_cut_into_lines_wherever_they_end() {
        let mut buffer = LogBuffer::new(100);
        buffer.push(b"one\ntw", None);
        buffer.push(b"o\r\nthree", None);
        assert_eq!(texts(&buffer), ["one", "two"]);
        assert_eq!(buffer.partial(), "three");
        buffer.finish();
        assert_eq!(texts(&buffer), ["one", "two", "three"]);
        assert_eq!(buffer.plain_text(), "one\ntwo\nthree\n");
    }

    #[test]
    fn colours_carry_across_lines_and_chunks() {
        let mut buffer = LogBuffer::new(100);
        buffer.push(b"\x1b[3", None);
        buffer.push(b"1mred\nstill red\x1b[0m plain\n", None);
        assert_eq!(texts(&buffer), ["red", "still red plain"]);
        let second = buffer.line(1).map(|l| l.spans.clone()).unwrap_or_default();
        assert_eq!(second[0].style.foreground, Some(ansi::Color::Indexed(1)));
        assert_eq!(second[1].style, Style::default());
    }

    #[test]
    fn memory_is_bounded_and_lines_keep_their_numbers() {
        let mut buffer = LogBuffer::new(3);
        for i in 1..=10 {
            buffer.push(format!("line {i}\n").as_bytes(), None);
        }
        assert_eq!(buffer.len(), 3);
        assert_eq!(buffer.dropped(), 7);
        assert_eq!(buffer.line(0).map(|l| l.number), Some(8));
        assert_eq!(texts(&buffer), ["line 8", "line 9", "line 10"]);
    }

    #[test]
    fn invalid_utf8_is_shown_not_lost() {
        let mut buffer = LogBuffer::new(10);
        buffer.push(b"ok \xff end\n", None);
        assert_eq!(texts(&buffer), ["ok \u{fffd} end"]);
    }

    #[test]
    fn search_ignores_case() {
        let mut buffer = LogBuffer::new(10);
        buffer.push(b"Error: one\nfine\nanother ERROR\n", None);
        assert_eq!(buffer.find("error"), [0, 2]);
        assert!(buffer.find("").is_empty());
    }
}
