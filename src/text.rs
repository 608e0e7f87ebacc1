//! Characters in text from elsewhere that a reader cannot see, shared by every output that
//! shows such text visibly (the terminal, Teams and Slack). Imports nothing.

/// Characters that hide, reorder or annotate text without showing themselves, beyond the C0 and
/// C1 controls: bidirectional overrides and isolates, zero-width characters, the line and
/// paragraph separators, interlinear annotations and the invisible "tag" characters.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{00ad}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{e0000}'..='\u{e007f}')
}
