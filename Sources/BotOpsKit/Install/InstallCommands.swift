import Foundation
import HostCommands
import Remote

/// What install-host sends the host, beside `Upload`'s copies: its actions on `~/botops` and the
/// facts it reads there, each a value (paths relative to the home directory, every one quoted).
enum InstallCommands {
    static let timeout: Duration = .seconds(30)

    /// The directories the files go to, private to the user.
    static func makeDirectories(_ directories: [String]) -> RemoteCommand {
        RemoteCommand("cd && umask 077 && mkdir -p -- \(directories)", timeout: timeout,
                      effect: .changes("create ~/" + directories.joined(separator: ", ~/")))
    }

    /// The staged `path.new`, proven, replaces `path`.
    static func moveIntoPlace(_ path: String) -> RemoteCommand {
        RemoteCommand("cd && mv -f -- \(path + ".new") \(path)", timeout: timeout, effect: .changes("replace ~/\(path)"))
    }

    /// The staged copies of `paths`, removed when one failed to run.
    static func removeStaged(_ paths: [String]) -> RemoteCommand {
        let staged = paths.map { $0 + ".new" }
        return RemoteCommand("cd && rm -f -- \(staged)", timeout: timeout, effect: .changes("remove ~/" + staged.joined(separator: ", ~/")))
    }

    /// Run in the home directory: removes the `botops/crontab.d/*.cron` not named in `keep` and
    /// prints each removed name. Each kept name is a quoted `case` pattern of its own, matched
    /// whole (a list joined by spaces kept `y.cron` when `x y.cron` was kept).
    static func pruneScript(keep: [String]) -> ShellScript {
        let kept = keep.reduce("" as ShellScript) { "\($0)\($1)) ;; " }
        return "cd botops/crontab.d 2>/dev/null || exit 0; for f in *.cron; do [ -f \"$f\" ] || continue; case $f in \(kept)*) rm -f -- \"$f\" && printf '%s\\n' \"$f\" ;; esac; done"
    }

    /// The crontab.d entries removed, by name.
    static func prune(keep: [String]) -> HostProbe<[String]> {
        HostProbe("crontab.d prune", RemoteCommand(pruneScript(keep: keep), timeout: timeout, effect: .changes("remove ~/botops/crontab.d entries deleted here"))) { result in
            try succeeded(result, "remove crontab.d entries deleted here")
            return result.stdoutText.split(separator: "\n").map(String.init)
        }
    }

    /// Removes those of `paths` (relative to `~/botops`) that exist, printing each removed.
    static func removeFiles(_ paths: [String]) -> HostProbe<[String]> {
        let paths = paths.map { "botops/" + $0 }
        let script: ShellScript = "cd && for f in \(paths); do { [ -e \"$f\" ] || [ -L \"$f\" ]; } || continue; rm -f -- \"$f\" && printf '%s\\n' \"${f#botops/}\"; done"
        return HostProbe("removing files", RemoteCommand(script, timeout: timeout, effect: .changes("remove ~/" + paths.joined(separator: ", ~/")))) { result in
            try succeeded(result, "remove ~/" + paths.joined(separator: ", ~/"))
            return result.stdoutText.split(separator: "\n").map(String.init)
        }
    }

    /// Whether `~/botops/engine.env` exists (any kind of file: an operator's own is never replaced).
    static let engineEnvExists = HostProbe("engine.env", RemoteCommand("cd && [ -e \(EngineEnvFile.path) ]", timeout: timeout)) { $0.succeeded }

    /// Writes `~/botops/engine.env` unless one exists: created or kept.
    static func createEngineEnv(line: String) -> HostProbe<EngineEnvFile.Outcome> {
        HostProbe("engine.env", RemoteCommand(EngineEnvFile.createScript(line: line), timeout: timeout, effect: .changes("create ~/\(EngineEnvFile.path)"))) { result in
            try succeeded(result, "create ~/\(EngineEnvFile.path)")
            return result.stdoutText.contains("created") ? .created : .kept
        }
    }

    /// Throws the install's step error (the host's stderr) when `result` failed.
    static func succeeded(_ result: CommandResult, _ what: String) throws {
        guard result.succeeded else { throw HostInstallError.step(what, output: result.stderrText) }
    }
}
