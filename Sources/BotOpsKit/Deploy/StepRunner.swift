import Foundation
import HostCommands
import Remote

/// The deploy's commands as they run on the host, so an interruption can act on them there.
/// A step that changes nothing running (preflight, baseline, build, wait-healthy, checks) records
/// each command's process group, which an interruption stops. A step that changes the running
/// service (keep-image, checkout, stop, up, restore-image) runs each command under the step lock
/// (`flock -s STATE/step.lock`), which taking the deploy lock waits for: the lock is free only
/// when no such command runs, even after botops was killed or lost its connection.
final class StepRunner: CommandRunner, @unchecked Sendable {
    enum Mode: Equatable {
        /// Before the first step, and for the lock itself.
        case plain
        /// Commands are recorded under `segment`: every stoppable step since the last changing one.
        case stoppable(segment: Int)
        /// Commands hold the step lock; `label` names the step for a waiting deploy.
        case changing(label: String)
    }

    let inner: any CommandRunner
    let state: StateDirectory
    /// Names this run's files of process groups.
    let token: String
    private let mutex = NSLock()
    private var current = Mode.plain
    private var segment = 0

    init(inner: any CommandRunner, state: StateDirectory) {
        self.inner = inner
        self.state = state
        token = "\(getpid())-\(UInt32.random(in: 0 ... .max))"
    }

    var destination: String { inner.destination }

    var mode: Mode { mutex.withLock { current } }

    /// The next step's commands: stoppable, or under the step lock.
    func enter(stoppable: Bool, label: String) {
        mutex.withLock {
            if stoppable {
                current = .stoppable(segment: segment)
            } else {
                segment += 1
                current = .changing(label: label)
            }
        }
    }

    func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        try await inner.stream(wrap(command, mode).text, timeout: timeout, input: input, onOutput: onOutput)
    }

    func wrap(_ command: String, _ mode: Mode) -> ShellScript {
        switch mode {
        case .plain:
            return ShellScript(stringLiteral: command)
        case .stoppable(let segment):
            // sshd starts each command in a process group of its own: $$ leads it. Its start time
            // (field 22 of /proc/PID/stat) goes with it, so a pid reused later is never taken for it.
            return """
                { echo "$$ $(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)" >> \(groupsFile(segment)); } 2>/dev/null
                \(ShellScript(stringLiteral: command))
                """
        case .changing(let label):
            return Self.underStepLock(command, label: label, state: state)
        }
    }

    /// `command` run under the step lock of `state` (which must exist), named `label` for a
    /// command that waits for it. Also how a crontab write runs.
    static func underStepLock(_ command: String, label: String, state: StateDirectory) -> ShellScript {
        """
        { printf '%s\\n' \(label) > \(state.file("step.cmd")); } 2>/dev/null
        exec flock -s \(state.file("step.lock")) sh -c \(command)
        """
    }

    private func groupsFile(_ segment: Int) -> ShellScript {
        state.file("run-\(token)-\(segment).pgids")
    }

    /// Stops the commands of the current stoppable steps on the host: SIGTERM to each process
    /// group, SIGKILL to what is left after `grace`. Nil when the current step is not stoppable.
    func stopCommand(grace: Duration = .seconds(10)) -> RemoteCommand? {
        guard case .stoppable(let segment) = mode else { return nil }
        return stop(records: groupsFile(segment), skip: nil, grace: grace,
                    effect: "stops the interrupted step's commands (their process groups)")
    }

    /// Stops what the stoppable steps of earlier runs left running on the host (a botops killed or
    /// cut off mid-build): run under the deploy lock, so those runs are over, and their commands
    /// would otherwise run beside this one's (a build tagging the image this run then starts).
    func orphansStopCommand(grace: Duration = .seconds(10)) -> RemoteCommand {
        stop(records: "\(state.script)/run-*.pgids", skip: "*/run-\(token)-*", grace: grace,
             effect: "stops the commands an interrupted earlier deploy left running (their process groups)")
    }

    /// `records`: shell words naming the files of process groups (a glob unquoted); `skip`: a
    /// `case` pattern of files left alone.
    private func stop(records: ShellScript, skip: ShellScript?, grace: Duration, effect: String) -> RemoteCommand {
        let tenths = Int(totalSeconds(grace) * 10)
        let skipped: ShellScript = skip.map { "case \"$f\" in \($0)) continue;; esac; " } ?? ""
        return RemoteCommand("""
            \(Self.ours)
            # `kill -SIG -PGID`, never `kill -SIG -- -PGID`: dash (sh with --local) refuses `--`.
            each() {
              for f in \(records); do
                \(skipped)[ -f "$f" ] || continue
                while read -r p s; do [ "${p:-0}" -gt 1 ] 2>/dev/null && ours "$p" "$s" && "$@" "$p"; done < "$f"
              done
            }
            term() { kill -TERM -"$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null; }
            alive() { alive=1; }
            kill9() { kill -KILL -"$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null; }
            each term
            i=0
            while [ "$i" -lt \(tenths) ]; do
              alive=
              each alive
              [ -z "$alive" ] && exit 0
              sleep 0.1; i=$((i + 1))
            done
            each kill9
            echo killed
            """, timeout: grace + .seconds(10), effect: .changes(effect))
    }

    /// `ours PID STARTTIME`: the recorded group is still the one a command started. The
    /// recorded leader still runs (same start time), or it ended and its group lives on (Linux
    /// never gives a pid to a new process while a group of that id exists). A command that ended
    /// long ago may have its pid reused by anything: never taken for it.
    private static let ours: ShellScript = """
        ours() {
          if [ -r /proc/"$1"/stat ]; then [ -n "$2" ] && [ "$(sed 's/.*) //' /proc/"$1"/stat | cut -d' ' -f20)" = "$2" ]
          else kill -0 -"$1" 2>/dev/null; fi
        }
        """

    /// Removes this run's records of process groups, and those of earlier runs none of whose
    /// groups is left (a botops killed or cut off before it could remove its own). Run under the
    /// deploy lock, so no other run is adding to them.
    func cleanupCommand() -> RemoteCommand {
        RemoteCommand("""
            cd \(state.script) 2>/dev/null || exit 0
            rm -f run-\(token)-*.pgids
            \(Self.ours)
            for f in run-*.pgids; do
              [ -f "$f" ] || continue
              left=
              while read -r p s; do [ "${p:-0}" -gt 1 ] 2>/dev/null && ours "$p" "$s" && left=1; done < "$f"
              [ -n "$left" ] || rm -f "$f"
            done
            true
            """, timeout: .seconds(20),
            effect: .changes("removes the deploy's records of its commands' process groups, and those left by earlier runs whose commands ended"))
    }
}
