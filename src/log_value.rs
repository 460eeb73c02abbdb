//! Request-derived values in log lines: at most [`MAX_LOGGED_CHARS`] characters, control
//! characters escaped, so no caller can flood the log or forge a line of it.

use std::fmt;

/// Longest request-derived value a log line carries.
pub const MAX_LOGGED_CHARS: usize = 200;

/// Displays a value for a log line: control characters escaped (`\n`, `\u{1b}`, …) and cut
/// after [`MAX_LOGGED_CHARS`] characters, saying how long the whole was.
pub struct Logged<'a>(pub &'a str);

impl fmt::Display for Logged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, c) in self.0.chars().enumerate() {
            if index == MAX_LOGGED_CHARS {
                return write!(f, "…({} bytes in all)", self.0.len());
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_str(c.encode_utf8(&mut [0; 4]))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_pass_unchanged() {
        assert_eq!(Logged("realm=alpha é").to_string(), "realm=alpha é");
    }

    #[test]
    fn control_characters_are_escaped_so_no_line_can_be_forged() {
        let shown = Logged("x\n[INFO] forged\r\u{1b}[31m\0").to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(shown, "x\\n[INFO] forged\\r\\u{1b}[31m\\u{0}");
    }

    #[test]
    fn long_values_are_cut_and_say_how_long_they_were() {
        let shown = Logged(&"a".repeat(45_000)).to_string();
        assert!(shown.starts_with(&"a".repeat(MAX_LOGGED_CHARS)));
        assert!(shown.ends_with("…(45000 bytes in all)"), "{shown}");
        assert!(shown.len() < MAX_LOGGED_CHARS + 40);
    }
}
