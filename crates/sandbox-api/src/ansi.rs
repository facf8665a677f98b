//! Colours and emphasis in terminal output (ANSI SGR escape sequences), read into
//! styled text so a log pane can show them without ever treating output as markup.
//! Every other escape sequence (cursor movement, window titles) is dropped, and so is
//! any sequence cut short at the end of a line.

/// One of the 256 indexed colours or a 24-bit colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// 0–7 standard, 8–15 bright, 16–255 the 6×6×6 cube and greys.
    Indexed(u8),
    Rgb(u8, u8, u8),
}

/// How a run of text looks. The default is the pane's normal text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub foreground: Option<Color>,
    pub background: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

/// A run of text in one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

const ESC: char = '\u{1b}';

/// `line` as styled runs, starting from `style` (the style the previous line ended
/// in, since a colour may span lines). Returns the runs and the style at the end.
/// Adjacent runs differ in style; empty runs are left out.
pub fn parse_line(line: &str, mut style: Style) -> (Vec<Span>, Style) {
    let mut spans = Vec::new();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ESC {
            text.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some('[') => {
                let mut parameters = String::new();
                let mut last = None;
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        last = Some(c);
                        break;
                    }
                    parameters.push(c);
                }
                if last == Some('m') {
                    let next = apply_sgr(style, &parameters);
                    if next != style {
                        flush(&mut spans, &mut text, style);
                        style = next;
                    }
                }
            }
            // OSC (e.g. a window title or hyperlink): up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == ESC && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // Any other two-character escape: dropped.
            _ => {}
        }
    }
    flush(&mut spans, &mut text, style);
    (spans, style)
}

/// `line` with every escape sequence removed.
pub fn strip(line: &str) -> String {
    parse_line(line, Style::default())
        .0
        .into_iter()
        .map(|span| span.text)
        .collect()
}

fn flush(spans: &mut Vec<Span>, text: &mut String, style: Style) {
    if !text.is_empty() {
        spans.push(Span {
            text: std::mem::take(text),
            style,
        });
    }
}

/// The style after the SGR parameters `parameters` (`1;31`, `38;5;208`, …).
fn apply_sgr(mut style: Style, parameters: &str) -> Style {
    let codes: Vec<u16> = parameters
        .split([';', ':'])
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let mut codes = codes.into_iter();
    // An empty parameter list means reset.
    let mut next = codes.next().or(Some(0));
    while let Some(code) = next {
        match code {
            0 => style = Style::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = true,
            7 => style.inverse = true,
            22 => (style.bold, style.dim) = (false, false),
            23 => style.italic = false,
            24 => style.underline = false,
            27 => style.inverse = false,
            30..=37 => style.foreground = Some(Color::Indexed((code - 30) as u8)),
            38 => style.foreground = extended_color(&mut codes),
            39 => style.foreground = None,
            40..=47 => style.background = Some(Color::Indexed((code - 40) as u8)),
            48 => style.background = extended_color(&mut codes),
            49 => style.background = None,
            90..=97 => style.foreground = Some(Color::Indexed((code - 90 + 8) as u8)),
            100..=107 => style.background = Some(Color::Indexed((code - 100 + 8) as u8)),
            _ => {}
        }
        next = codes.next();
    }
    style
}

/// `5;n` (indexed) or `2;r;g;b` (24-bit) after a 38 or 48.
fn extended_color(codes: &mut impl Iterator<Item = u16>) -> Option<Color> {
    let byte = |v: Option<u16>| v.map(|v| v.min(255) as u8);
    match codes.next() {
        Some(5) => byte(codes.next()).map(Color::Indexed),
        Some(2) => {
            let (r, g, b) = (
                byte(codes.next())?,
                byte(codes.next())?,
                byte(codes.next())?,
            );
            Some(Color::Rgb(r, g, b))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red() -> Style {
        Style {
            foreground: Some(Color::Indexed(1)),
            ..Style::default()
        }
    }

    #[test]
    fn colours_become_styled_runs() {
        let (spans, end) = parse_line("ok \u{1b}[31merror\u{1b}[0m done", Style::default());
        assert_eq!(
            spans,
            vec![
                Span {
                    text: "ok ".into(),
                    style: Style::default()
                },
                Span {
                    text: "error".into(),
                    style: red()
                },
                Span {
                    text: " done".into(),
                    style: Style::default()
                },
            ]
        );
        assert_eq!(end, Style::default());
    }

    #[test]
    fn a_style_carries_over_to_the_next_line() {
        let (_, end) = parse_line("\u{1b}[1;31mstarts here", Style::default());
        let (spans, _) = parse_line("goes on", end);
        assert_eq!(
            spans[0].style,
            Style {
                bold: true,
                ..red()
            }
        );
    }

    #[test]
    fn extended_colours() {
        let (spans, _) = parse_line(
            "\u{1b}[38;5;208mA\u{1b}[48;2;1;2;3mB\u{1b}[39;49mC",
            Style::default(),
        );
        assert_eq!(spans[0].style.foreground, Some(Color::Indexed(208)));
        assert_eq!(spans[1].style.background, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(spans[2].style, Style::default());
        let (spans, _) = parse_line("\u{1b}[92mbright\u{1b}[mplain", Style::default());
        assert_eq!(spans[0].style.foreground, Some(Color::Indexed(10)));
        assert_eq!(spans[1].style, Style::default());
    }

    #[test]
    fn other_sequences_and_broken_ones_are_dropped() {
        assert_eq!(strip("\u{1b}[2K\u{1b}[1Gprogress 50%"), "progress 50%");
        assert_eq!(strip("\u{1b}]0;title\u{7}text"), "text");
        assert_eq!(
            strip("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(strip("cut \u{1b}[3"), "cut ");
        assert_eq!(strip("lone \u{1b}"), "lone ");
        assert_eq!(strip("<b>not markup</b>"), "<b>not markup</b>");
    }

    proptest::proptest! {
        #[test]
        fn text_survives_and_no_escape_does(line in "(\\PC|\u{1b}|\\[|[0-9;m\\]])*") {
            let stripped = strip(&line);
            proptest::prop_assert!(!stripped.contains(ESC));
            if !line.contains(ESC) {
                proptest::prop_assert_eq!(stripped, line);
            }
        }
    }

    #[test]
    fn garbage_parameters_do_not_panic() {
        let (spans, _) = parse_line(
            "\u{1b}[38;5mA\u{1b}[38;2;999;1mB\u{1b}[99999mC",
            Style::default(),
        );
        assert_eq!(
            spans.iter().map(|s| s.text.as_str()).collect::<String>(),
            "ABC"
        );
    }
}
