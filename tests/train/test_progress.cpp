// Tests of the progress bar with an injected clock and output stream: tqdm's status line
// (percentage, bar in eighths, count, elapsed<remaining, rate, postfix), in-place redraws on a
// terminal at most every min_interval, one line when not on a terminal, nothing when quiet.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <tapegrad/train/progress.h>

namespace {

using namespace tg::train;

// A bar drawing into `out` with the time read from `now`.
struct Fixture {
  std::ostringstream out;
  double now = 100;  // any origin: the bar counts from its construction
  ProgressOptions options(Display display, int64_t total = 100) {
    return {.desc = "epoch 1/2",
            .total = total,
            .unit = "batch",
            .display = display,
            .out = &out,
            .clock = [this] { return now; }};
  }
};

}  // namespace

TEST_CASE("format_interval: mm:ss, then h:mm:ss, truncated like tqdm") {
  CHECK(format_interval(0) == "00:00");
  CHECK(format_interval(59.99) == "00:59");
  CHECK(format_interval(61) == "01:01");
  CHECK(format_interval(3599) == "59:59");
  CHECK(format_interval(3600) == "1:00:00");
  CHECK(format_interval(36000 + 62) == "10:01:02");
  CHECK(format_interval(-1) == "?");
  CHECK(format_interval(1.0 / 0.0) == "?");
}

TEST_CASE("ProgressBar::line: percentage, bar, count, elapsed<remaining, rate, postfix") {
  Fixture f;
  ProgressBar bar(f.options(Display::quiet));
  // Nothing done yet: no rate, no ETA.
  CHECK(bar.line() == "epoch 1/2:   0%|          | 0/100 [00:00<?, ?batch/s]");
  bar.update(37);
  f.now += 4;
  bar.set_postfix({{"loss", 2.20449}, {"acc", 53.25}});
  // 37 of 100 in 4 s: 9.25 batch/s, 63 left take 6.8 s; 0.37 x 10 cells = 3 full and 5/8.
  CHECK(bar.line() ==
        "epoch 1/2:  37%|███▋      | 37/100 [00:04<00:06, 9.25batch/s, loss=2.204, acc=53.25]");
  CHECK(bar.rate() == doctest::Approx(9.25));
  CHECK(bar.elapsed() == doctest::Approx(4));
  CHECK(bar.n() == 37);
  bar.update(63);
  f.now += 6;
  bar.set_postfix({});
  bar.set_description("epoch 2/2");
  CHECK(bar.line() == "epoch 2/2: 100%|██████████| 100/100 [00:10<00:00, 10.00batch/s]");
}

TEST_CASE("ProgressBar::line: slow steps show seconds per step; an unknown total has no bar") {
  Fixture f;
  ProgressBar slow(
      {.total = 10, .display = Display::quiet, .out = &f.out, .clock = [&] { return f.now; }});
  slow.update(2);
  f.now += 5;  // 0.4 it/s: 2.50 s/it, 8 left take 20 s
  CHECK(slow.line() == " 20%|██        | 2/10 [00:05<00:20, 2.50s/it]");
  ProgressBar open(f.options(Display::quiet, 0));
  open.update(30);
  f.now += 120;
  CHECK(open.line() == "epoch 1/2: 30batch [02:00, 4.00s/batch]");
}

TEST_CASE("ProgressBar on a terminal redraws in place, throttled, and writes lines above") {
  Fixture f;
  {
    ProgressBar bar(f.options(Display::terminal, 4));
    std::string first = "\repoch 1/2:   0%|          | 0/4 [00:00<?, ?batch/s]\033[K";
    CHECK(f.out.str() == first);
    f.now += 0.0625;
    bar.update();  // 1/16 s after the last draw: not redrawn
    CHECK(f.out.str() == first);
    f.now += 0.0625;
    bar.update();  // 1/8 s, past min_interval 0.1: redrawn; 2 steps in 1/8 s = 16 per second
    std::string second = "\repoch 1/2:  50%|█████     | 2/4 [00:00<00:00, 16.00batch/s]\033[K";
    CHECK(f.out.str() == first + second);
    bar.write("[1, 2] loss: 1.5");  // clears the line, prints, redraws the bar below
    std::string third = "\r\033[K[1, 2] loss: 1.5\n" + second;
    CHECK(f.out.str() == first + second + third);
    bar.update(2);  // the last step is always drawn, throttle or not
    std::string fourth = "\repoch 1/2: 100%|██████████| 4/4 [00:00<00:00, 32.00batch/s]\033[K";
    CHECK(f.out.str() == first + second + third + fourth);
    bar.close();
    CHECK(f.out.str() == first + second + third + fourth + fourth + "\n");
  }  // the destructor does not close twice
  CHECK(f.out.str().ends_with("\033[K\n"));
  CHECK(f.out.str().find("\n\n") == std::string::npos);
}

TEST_CASE("ProgressBar off a terminal writes one line when it closes; quiet writes none") {
  Fixture f;
  {
    ProgressBar bar(f.options(Display::lines, 4));
    for (int i = 0; i < 4; ++i) {
      f.now += 0.5;
      bar.update();
    }
    bar.write("[1, 4] loss: 0.9");
    bar.set_postfix({{"loss", 0.9}});
    CHECK(f.out.str() == "[1, 4] loss: 0.9\n");
  }  // closed by the destructor
  CHECK(f.out.str() ==
        "[1, 4] loss: 0.9\nepoch 1/2: 100%|██████████| 4/4 [00:02<00:00, 2.00batch/s, loss=0.9]\n");

  Fixture q;
  ProgressBar quiet(q.options(Display::quiet, 4));
  quiet.update(4);
  quiet.write("kept");
  quiet.close();
  CHECK(q.out.str() == "kept\n");

  Fixture a;  // automatic with a stream of the caller's: not a terminal
  {
    ProgressBar bar(a.options(Display::automatic, 1));
    bar.update();
  }
  CHECK(a.out.str() == "epoch 1/2: 100%|██████████| 1/1 [00:00<?, ?batch/s]\n");
}
