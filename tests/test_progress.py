"""Progress bars: on a terminal a bar with the time left, elsewhere nothing (plain lines)."""

import io

from ecg_energy.progress import Bar, on_terminal


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_on_a_terminal_shows_the_count_and_the_time_left(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    out = Terminal()
    with Bar(4, "original", unit="epoch", stream=out) as bar:
        assert bar.live
        bar.update(1, loss="0.120")
        bar.update(1, loss="0.100")
    text = out.getvalue()
    assert "original" in text and "2/4" in text and "loss=0.100" in text
    assert "<" in text  # tqdm's elapsed<remaining


def test_no_bar_in_a_log_or_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    log = io.StringIO()
    bar = Bar(4, "original", stream=log)
    bar.update(1)
    bar.close()
    assert not bar.live and log.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    assert on_terminal(Terminal()) is False
