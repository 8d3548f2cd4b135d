#include "cli/top_screen.h"

#include <curses.h>
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "monitor/process_signal.h"

namespace dlrig {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// A signal handler without SA_RESTART, so a blocked getch returns and the loop sees g_stop.
void CatchStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &action, nullptr);
}

enum class Mode { kBrowse, kUserPrompt, kChooseSignal, kConfirm };

struct Screen {
  Sampler& sampler;
  TopViewState state;
  Mode mode = Mode::kBrowse;
  std::string input;           ///< the user prompt's text so far
  long long selected_pid = 0;  ///< the selection follows its process when rows reorder
  TopProcessRow target;        ///< the process a signal is for
  int signal = SIGTERM;
  std::string note;  ///< what the last action did, until the next key
  TopFrame frame;
};

// The signals K offers, with their keys.
struct SignalChoice {
  int key;
  int signal;
};
constexpr SignalChoice kSignalChoices[] = {{'t', SIGTERM}, {'k', SIGKILL}, {'i', SIGINT},
                                           {'h', SIGHUP},  {'s', SIGSTOP}, {'c', SIGCONT}};

std::string Message(const Screen& s) {
  switch (s.mode) {
    case Mode::kUserPrompt:
      return "show only user (Enter applies, empty for all, Esc cancels): " + s.input;
    case Mode::kChooseSignal:
      return fmt::format("signal pid {}: t TERM k KILL i INT h HUP s STOP c CONT (Esc: cancel)",
                         s.target.process.pid);
    case Mode::kConfirm:
      return fmt::format("send {} to pid {} ({})? y/n", SignalName(s.signal), s.target.process.pid,
                         s.target.process.command.empty() ? "n/a" : s.target.process.command);
    case Mode::kBrowse:
      return s.note;
  }
  return "";
}

int Attribute(TopStyle style, bool colour) {
  switch (style) {
    case TopStyle::kNormal:
      return A_NORMAL;
    case TopStyle::kBold:
      return A_BOLD;
    case TopStyle::kDim:
      return A_DIM;
    case TopStyle::kSelected:
      return A_REVERSE;
    case TopStyle::kGreen:
      return colour ? COLOR_PAIR(1) : A_NORMAL;
    case TopStyle::kYellow:
      return colour ? COLOR_PAIR(2) : A_BOLD;
    case TopStyle::kRed:
      return colour ? COLOR_PAIR(3) | A_BOLD : A_BOLD;
  }
  return A_NORMAL;
}

void Draw(Screen& s) {
  auto recent = s.sampler.Recent();
  getmaxyx(stdscr, s.state.height, s.state.width);
  s.state.message = Message(s);
  if (!recent.empty() && s.selected_pid != 0) {
    auto rows = TopProcessRows(*recent.back(), s.state);
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].process.pid == s.selected_pid) s.state.selected = static_cast<int>(i);
  }
  s.frame = RenderTop(recent, s.state);
  s.state.selected = s.frame.selected;
  s.state.first_row = s.frame.first_row;
  if (!s.frame.rows.empty()) s.selected_pid = s.frame.rows[s.frame.selected].process.pid;
  erase();
  for (size_t y = 0; y < s.frame.lines.size(); ++y) {
    move(static_cast<int>(y), 0);
    for (const TopSpan& span : s.frame.lines[y]) {
      attrset(Attribute(span.style, s.state.colour));
      addstr(span.text.c_str());
    }
  }
  attrset(A_NORMAL);
  refresh();
}

void Select(Screen& s, int to) {
  int count = static_cast<int>(s.frame.rows.size());
  if (count == 0) return;
  s.state.selected = std::clamp(to, 0, count - 1);
  s.selected_pid = s.frame.rows[s.state.selected].process.pid;
}

// Starts asking about a signal for the selected process, unless it is not ours to signal.
void AimAt(Screen& s, Mode next) {
  if (s.frame.rows.empty()) {
    s.note = "no process selected";
    return;
  }
  s.target = s.frame.rows[s.frame.selected];
  if (auto ok = SignalProcess(s.target.process.pid, 0); !ok) {  // signal 0: may we at all?
    s.note = ok.error().message;
    return;
  }
  s.signal = SIGTERM;
  s.mode = next;
}

void Send(Screen& s) {
  auto sent = SignalProcess(s.target.process.pid, s.signal);
  s.note = sent ? fmt::format("sent {} to pid {}", SignalName(s.signal), s.target.process.pid)
                : sent.error().message;
  s.mode = Mode::kBrowse;
}

// One key in the prompt modes.
void PromptKey(Screen& s, int key) {
  bool cancel = key == 27 || key == 'n' || key == 'N' || key == 'q';
  if (s.mode == Mode::kUserPrompt) {
    if (key == 27) {
      s.mode = Mode::kBrowse;
    } else if (key == '\n' || key == KEY_ENTER) {
      s.state.user_filter = s.input;
      s.state.selected = 0;
      s.selected_pid = 0;
      s.mode = Mode::kBrowse;
    } else if ((key == KEY_BACKSPACE || key == 127 || key == 8) && !s.input.empty()) {
      s.input.pop_back();
    } else if (key >= 0x20 && key < 0x7F && s.input.size() < 64) {
      s.input += static_cast<char>(key);
    }
  } else if (s.mode == Mode::kChooseSignal) {
    for (const SignalChoice& c : kSignalChoices)
      if (key == c.key) {
        s.signal = c.signal;
        s.mode = Mode::kConfirm;
      }
    if (key == 27) s.mode = Mode::kBrowse;
  } else if (s.mode == Mode::kConfirm) {
    if (key == 'y' || key == 'Y')
      Send(s);
    else if (cancel)
      s.mode = Mode::kBrowse;
  }
}

// One key while browsing; false to quit.
bool BrowseKey(Screen& s, int key) {
  int page = std::max(1, s.state.height / 2);
  s.note.clear();
  switch (key) {
    case 'q':
    case 'Q':
    case 3:
      return false;
    case 's':
      s.state.sort = NextTopSort(s.state.sort);
      break;
    case 'u':
      s.input = s.state.user_filter;
      s.mode = Mode::kUserPrompt;
      break;
    case KEY_UP:
    case 'k':
      Select(s, s.frame.selected - 1);
      break;
    case KEY_DOWN:
    case 'j':
      Select(s, s.frame.selected + 1);
      break;
    case KEY_PPAGE:
      Select(s, s.frame.selected - page);
      break;
    case KEY_NPAGE:
      Select(s, s.frame.selected + page);
      break;
    case KEY_HOME:
    case 'g':
      Select(s, 0);
      break;
    case KEY_END:
    case 'G':
      Select(s, static_cast<int>(s.frame.rows.size()) - 1);
      break;
    case 'x':
      AimAt(s, Mode::kConfirm);
      break;
    case 'K':
    case KEY_F(9):
      AimAt(s, Mode::kChooseSignal);
      break;
    default:
      break;
  }
  return true;
}

// How long to block in getch: until the next snapshot is due, or a short poll while it is late.
int WaitMs(const Screen& s, const std::shared_ptr<const MonitorSnapshot>& latest) {
  auto interval = s.sampler.options().interval;
  if (!latest) return 100;
  auto due = latest->taken + interval + latest->took + std::chrono::milliseconds(20);
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(due - std::chrono::system_clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 100, interval.count()));
}

void StartColours() {
  start_color();
  use_default_colors();
  init_pair(1, COLOR_GREEN, -1);
  init_pair(2, COLOR_YELLOW, -1);
  init_pair(3, COLOR_RED, -1);
}

}  // namespace

int RunTopScreen(Sampler& sampler, TopViewState state) {
  const char* term = std::getenv("TERM");
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  if (screen == nullptr) {
    std::fprintf(stderr,
                 "dlrig top: the terminal type '%s' is not in the terminfo database "
                 "(/etc/terminfo, /lib/terminfo, /usr/share/terminfo, $TERMINFO); "
                 "try TERM=xterm dlrig top, or dlrig top --once\n",
                 term ? term : "");
    return kExitUsage;
  }
  set_term(screen);
  CatchStopSignals();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  set_escdelay(25);
  state.colour = state.colour && has_colors();
  if (state.colour) StartColours();
  state.interactive = true;
  sampler.Start();

  Screen s{sampler, state};
  uint64_t shown = 0;
  bool dirty = true;
  while (!g_stop) {
    auto latest = sampler.Latest();
    if (dirty || (latest && latest->sequence != shown)) {
      Draw(s);
      shown = latest ? latest->sequence : 0;
      dirty = false;
    }
    timeout(WaitMs(s, latest));
    int key = getch();
    if (key == ERR) continue;
    dirty = true;
    if (key == KEY_RESIZE) continue;
    if (s.mode != Mode::kBrowse)
      PromptKey(s, key);
    else if (!BrowseKey(s, key))
      break;
  }
  endwin();
  delscreen(screen);
  auto last = sampler.Latest();
  return last && !last->unavailable.empty() ? kExitErrors : kExitHealthy;
}

}  // namespace dlrig
