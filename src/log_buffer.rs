//! A sandbox's log as the pane holds it: bytes as they arrive, cut into lines (a chunk
//! may end mid-line), each line's colours read into styled runs once, and at most
//! `capacity` lines kept so a log of millions of lines keeps memory bounded. Lines are
//! numbered from where reading started, so dropped lines are still counted, and every
//! `BLOCK_LINES`th line's byte offset is remembered (a few bytes per block) so that a
//! dropped range can be read again from the server when the reader scrolls back to it.

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

/// Lines between two remembered offsets; also how many lines are read again at once.
pub const BLOCK_LINES: u64 = 5_000;

/// Where a line starts in the log, and the colours in force there: enough to read the
/// log again from that line and style it exactly as the first time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Checkpoint {
    pub number: u64,
    pub offset: u64,
    pub style: Style,
}

pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    /// The number the first line read gets.
    first_number: u64,
    /// Lines dropped from the front to respect `capacity`.
    dropped: u64,
    /// Bytes after the last newline.
    partial: Vec<u8>,
    /// The byte offset in the log where `partial` starts.
    partial_offset: Option<u64>,
    /// The style the last complete line ended in.
    style: Style,
    /// One for every `BLOCK_LINES`th line, oldest first.
    checkpoints: Vec<Checkpoint>,
    /// Every line's width in characters, dropped lines too (two bytes a line), so that
    /// wrapped lines can be placed without holding their text.
    widths: Vec<u16>,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            capacity: capacity.max(1),
            ..LogBuffer::resuming(Checkpoint {
                number: 1,
                offset: 0,
                style: Style::default(),
            })
        }
    }

    /// A buffer for the log read again from `checkpoint`, to be taken as a block with
    /// `into_block` once it holds `BLOCK_LINES` lines: its first line gets the
    /// checkpoint's number and starts in its style.
    pub fn resuming(checkpoint: Checkpoint) -> LogBuffer {
        LogBuffer {
            lines: VecDeque::new(),
            capacity: usize::MAX,
            first_number: checkpoint.number,
            dropped: 0,
            partial: Vec::new(),
            partial_offset: None,
            style: checkpoint.style,
            checkpoints: Vec::new(),
            widths: Vec::new(),
        }
    }

    /// Adds a chunk of output written at `timestamp`; `end_offset` is the byte offset
    /// in the log just past the chunk, as the server gives it.
    pub fn push(&mut self, data: &[u8], end_offset: u64, timestamp: Option<String>) {
        let start = end_offset.saturating_sub(data.len() as u64);
        let mut line_start = self.partial_offset.unwrap_or(start);
        let mut rest = data;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            let bytes = std::mem::take(&mut self.partial);
            self.add_line(&bytes, line_start, timestamp.clone());
            rest = &rest[end + 1..];
            line_start = end_offset - rest.len() as u64;
        }
        self.partial.extend_from_slice(rest);
        self.partial_offset = Some(line_start);
    }

    /// Ends the log: a last line without a newline becomes a line.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            let bytes = std::mem::take(&mut self.partial);
            let offset = self.partial_offset.unwrap_or_default();
            self.add_line(&bytes, offset, None);
        }
    }

    fn add_line(&mut self, bytes: &[u8], offset: u64, timestamp: Option<String>) {
        let number = self.next_number();
        if (number - 1).is_multiple_of(BLOCK_LINES) {
            self.checkpoints.push(Checkpoint {
                number,
                offset,
                style: self.style,
            });
        }
        let text = String::from_utf8_lossy(bytes);
        // A carriage return before the newline (CRLF output) is not part of the line.
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let (spans, style) = ansi::parse_line(text, self.style);
        self.style = style;
        let width: usize = spans.iter().map(|s| s.text.chars().count()).sum();
        self.widths.push(u16::try_from(width).unwrap_or(u16::MAX));
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

    fn next_number(&self) -> u64 {
        self.first_held() + self.lines.len() as u64
    }

    /// The number of the first line read (held or not).
    pub fn first_number(&self) -> u64 {
        self.first_number
    }

    /// The number of the oldest line held.
    pub fn first_held(&self) -> u64 {
        self.first_number + self.dropped
    }

    /// Line `number`, if it is held.
    pub fn get(&self, number: u64) -> Option<&LogLine> {
        let index = usize::try_from(number.checked_sub(self.first_held())?).ok()?;
        self.lines.get(index)
    }

    /// The width in characters of every line read, oldest first.
    pub fn widths(&self) -> &[u16] {
        &self.widths
    }

    /// Whether text after the last newline is waiting for the rest of its line.
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }

    /// Complete lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The remembered place at or before line `number`, to read it again from.
    pub fn checkpoint_for(&self, number: u64) -> Option<Checkpoint> {
        let after = self.checkpoints.partition_point(|c| c.number <= number);
        after.checked_sub(1).map(|i| self.checkpoints[i])
    }

    /// Complete lines dropped from the front.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The text after the last newline, shown while the sandbox may still add to it.
    pub fn partial(&self) -> String {
        let text = String::from_utf8_lossy(&self.partial);
        ansi::strip(&text)
    }

    /// The numbers of the held lines whose text contains `needle`, ignoring case.
    pub fn find(&self, needle: &str) -> Vec<u64> {
        if needle.is_empty() {
            return Vec::new();
        }
        let needle = needle.to_lowercase();
        self.lines
            .iter()
            .filter(|line| line.text().to_lowercase().contains(&needle))
            .map(|line| line.number)
            .collect()
    }
}

/// The first line of the block of `BLOCK_LINES` lines that holds line `number`.
pub fn block_start(number: u64) -> u64 {
    (number.max(1) - 1) / BLOCK_LINES * BLOCK_LINES + 1
}

/// Blocks of lines read again after they were dropped, the most recently used first;
/// only a few are kept, as only a screenful is looked at.
#[derive(Default)]
pub struct History {
    blocks: VecDeque<Vec<LogLine>>,
}

impl History {
    const BLOCKS: usize = 4;

    pub fn line(&self, number: u64) -> Option<&LogLine> {
        self.blocks.iter().find_map(|block| {
            let first = block.first()?.number;
            block.get(usize::try_from(number.checked_sub(first)?).ok()?)
        })
    }

    pub fn insert(&mut self, block: Vec<LogLine>) {
        let Some(first) = block.first().map(|l| l.number) else {
            return;
        };
        self.blocks
            .retain(|b| b.first().map(|l| l.number) != Some(first));
        self.blocks.push_front(block);
        self.blocks.truncate(Self::BLOCKS);
    }
}

impl LogBuffer {
    /// The first `BLOCK_LINES` lines held, giving up the buffer.
    pub fn into_block(self) -> Vec<LogLine> {
        let mut lines: Vec<LogLine> = self.lines.into();
        lines.truncate(BLOCK_LINES as usize);
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `chunks` as a server would send them, each with the offset past it.
    fn feed(buffer: &mut LogBuffer, chunks: &[&[u8]]) {
        let mut offset = 0;
        for chunk in chunks {
            offset += chunk.len() as u64;
            buffer.push(chunk, offset, None);
        }
    }

    fn texts(buffer: &LogBuffer) -> Vec<String> {
        let first = buffer.first_held();
        (first..first + buffer.len() as u64)
            .filter_map(|n| buffer.get(n))
            .map(LogLine::text)
            .collect()
    }

    #[test]
    fn chunks_are_cut_into_lines_wherever_they_end() {
        let mut buffer = LogBuffer::new(100);
        feed(&mut buffer, &[b"one\ntw", b"o\r\nthree"]);
        assert_eq!(texts(&buffer), ["one", "two"]);
        assert_eq!(buffer.partial(), "three");
        buffer.finish();
        assert_eq!(texts(&buffer), ["one", "two", "three"]);
        assert!(!buffer.has_partial());
    }

    #[test]
    fn colours_carry_across_lines_and_chunks() {
        let mut buffer = LogBuffer::new(100);
        feed(
            &mut buffer,
            &[b"\x1b[3", b"1mred\nstill red\x1b[0m plain\n"],
        );
        assert_eq!(texts(&buffer), ["red", "still red plain"]);
        let second = buffer.get(2).map(|l| l.spans.clone()).unwrap_or_default();
        assert_eq!(second[0].style.foreground, Some(ansi::Color::Indexed(1)));
        assert_eq!(second[1].style, Style::default());
    }

    #[test]
    fn memory_is_bounded_and_lines_keep_their_numbers() {
        let mut buffer = LogBuffer::new(3);
        let lines: Vec<String> = (1..=10).map(|i| format!("line {i}\n")).collect();
        let chunks: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        feed(&mut buffer, &chunks);
        assert_eq!(buffer.len(), 3);
        assert_eq!(buffer.dropped(), 7);
        assert_eq!(buffer.first_held(), 8);
        assert_eq!(buffer.widths().len(), 10);
        assert_eq!(buffer.widths()[9], 7);
        assert_eq!(buffer.get(8).map(LogLine::text).as_deref(), Some("line 8"));
        assert!(buffer.get(7).is_none());
        assert_eq!(texts(&buffer), ["line 8", "line 9", "line 10"]);
    }

    #[test]
    fn invalid_utf8_is_shown_not_lost() {
        let mut buffer = LogBuffer::new(10);
        feed(&mut buffer, &[b"ok \xff end\n"]);
        assert_eq!(texts(&buffer), ["ok \u{fffd} end"]);
    }

    #[test]
    fn search_ignores_case() {
        let mut buffer = LogBuffer::new(10);
        feed(&mut buffer, &[b"Error: one\nfine\nanother ERROR\n"]);
        assert_eq!(buffer.find("error"), [1, 3]);
        assert!(buffer.find("").is_empty());
    }

    /// A log of `lines` numbered lines, the even ones red across the newline.
    fn numbered_log(lines: u64) -> Vec<u8> {
        let mut log = Vec::new();
        for i in 1..=lines {
            let colour = if i % 2 == 0 { "\x1b[31m" } else { "\x1b[0m" };
            log.extend_from_slice(format!("{colour}line {i}\n").as_bytes());
        }
        log
    }

    #[test]
    fn a_dropped_block_read_again_from_its_checkpoint_is_the_same_as_first_read() {
        let total = BLOCK_LINES * 3 + 17;
        let log = numbered_log(total);
        let mut everything = LogBuffer::new(usize::MAX);
        let mut bounded = LogBuffer::new(100);
        // Chunks that cut lines anywhere.
        let mut offset = 0;
        for chunk in log.chunks(4_093) {
            offset += chunk.len() as u64;
            everything.push(chunk, offset, None);
            bounded.push(chunk, offset, None);
        }
        assert_eq!(bounded.dropped(), total - 100);
        let wanted = BLOCK_LINES + 42;
        let checkpoint = bounded.checkpoint_for(wanted).expect("a checkpoint");
        assert_eq!(checkpoint.number, block_start(wanted));
        let mut again = LogBuffer::resuming(checkpoint);
        let from = usize::try_from(checkpoint.offset).expect("small");
        again.push(&log[from..], log.len() as u64, None);
        let block = again.into_block();
        assert_eq!(block.len() as u64, BLOCK_LINES);
        for line in &block {
            let original = everything.get(line.number).expect("held");
            assert_eq!(line, original);
        }
        let mut history = History::default();
        history.insert(block);
        assert_eq!(
            history.line(wanted).map(LogLine::text),
            Some(format!("line {wanted}"))
        );
        assert!(history.line(wanted + BLOCK_LINES).is_none());
    }

    #[test]
    fn blocks_start_every_block_lines() {
        assert_eq!(block_start(1), 1);
        assert_eq!(block_start(BLOCK_LINES), 1);
        assert_eq!(block_start(BLOCK_LINES + 1), BLOCK_LINES + 1);
    }
}
