//! Small helpers for writing to people and to machines.

use std::io::IsTerminal;

/// True when the error is only "the reader went away" (`syncward ... | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Colour only on a terminal, and never when NO_COLOR is set.
pub fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// ANSI styling that becomes plain text when colour is off.
#[derive(Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn detect() -> Self {
        Style {
            on: colour_enabled(),
        }
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }

    pub fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }

    pub fn green(&self, s: &str) -> String {
        self.wrap("1;32", s)
    }

    pub fn yellow(&self, s: &str) -> String {
        self.wrap("1;33", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
}
