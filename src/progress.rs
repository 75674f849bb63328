//! Progress bars on stderr for long steps, hidden when stderr is not a
//! terminal (so logs and CI output stay clean).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn bar(len: u64, what: &str, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// A bar counting bytes, with throughput and time left.
pub fn bytes_bar(len: u64, what: &str) -> ProgressBar {
    bar(
        len,
        what,
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
}

/// A bar counting items (quads).
pub fn count_bar(len: u64, what: &str) -> ProgressBar {
    bar(
        len,
        what,
        "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
    )
}
