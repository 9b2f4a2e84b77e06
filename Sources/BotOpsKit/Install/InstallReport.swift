import Foundation

/// `install-host --format json`: one object, whatever the outcome, so a script reads what was
/// installed (or why not) and the exit code from the same place.
public enum InstallReport {
    /// After the install (or its dry run) went through.
    public static func json(_ install: HostInstall, _ outcome: HostInstall.Outcome, dryRun: Bool) -> String {
        let digests = Dictionary(outcome.installed.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        let copied = install.copied(outcome)
        var object = base(install, outcome: dryRun ? "checked" : "installed", exitCode: BotOpsExitCode.success.rawValue, dryRun: dryRun)
        object["host"] = ["machine": outcome.runtime.machine, "glibc": outcome.runtime.glibc.map { "\($0)" } as Any? ?? NSNull()]
        object["binary_needs"] = ["machine": outcome.elf.machine, "glibc": outcome.elf.glibc.map { "\($0)" } as Any? ?? NSNull()]
        object["files"] = copied.map { file -> [String: Any] in
            let path = "botops/" + file.remote
            return ["local": file.local, "path": "~/" + path, "mode": file.mode, "sha256": digests[path] as Any? ?? NSNull()]
        }
        object["removed"] = outcome.removed.map { "~/botops/" + $0 }
        object["host_version"] = outcome.hostVersion as Any? ?? NSNull()
        object["engine_version"] = outcome.engineVersion as Any? ?? NSNull()
        if !outcome.engineSkipped.isEmpty, let engine = install.engine {
            var skipped = object["skipped"] as? [[String: Any]] ?? []
            skipped.append(["what": engine.path, "why": "the host cannot run it: " + outcome.engineSkipped.map { "\($0)" }.joined(separator: "; ")])
            object["skipped"] = skipped
        }
        object["engine_env"] = engineEnv(outcome.engineEnv)
        return render(object)
    }

    /// The command ended with `error` (refused, failed, unreachable…): its message and exit code.
    /// `install` is nil when the error came before the files were known.
    public static func json(error: Error, install: HostInstall?, dryRun: Bool) -> String {
        let code = BotOpsExitCode(for: error)
        var object = base(install, outcome: outcomeName(code), exitCode: code.rawValue, dryRun: dryRun)
        object["error"] = String(describing: error)
        if case .cannotRun(_, let problems) = error as? HostInstallError {
            object["problems"] = problems.map { "\($0)" }
        }
        return render(object)
    }

    /// Stopped by Ctrl-C or SIGTERM: exit 128 + the signal, as the process exits.
    public static func json(interruptedBy signal: Int32, install: HostInstall, dryRun: Bool) -> String {
        var object = base(install, outcome: "interrupted", exitCode: 128 + signal, dryRun: dryRun)
        object["error"] = HostInstallInterrupted(signal: signal).description
        return render(object)
    }

    /// `~/botops/engine.env`'s fate; its content is never read back nor shown.
    static func engineEnv(_ outcome: EngineEnvFile.Outcome?) -> Any {
        let path = "~/" + EngineEnvFile.path
        switch outcome {
        case nil: return NSNull()
        case .created: return ["path": path, "action": "created", "mode": "600"]
        case .wouldCreate: return ["path": path, "action": "would create", "mode": "600"]
        case .kept: return ["path": path, "action": "kept"]
        case .notCreated(let reason, let instructions): return ["path": path, "action": "not created", "why": reason, "write": instructions]
        }
    }

    static func outcomeName(_ code: BotOpsExitCode) -> String {
        switch code {
        case .success: "installed"
        case .failed: "failed"
        case .usage: "usage"
        case .unreachable: "unreachable"
        case .refused: "refused"
        case .needsHuman: "needs_human"
        }
    }

    private static func base(_ install: HostInstall?, outcome: String, exitCode: Int32, dryRun: Bool) -> [String: Any] {
        var object: [String: Any] = ["outcome": outcome, "exit_code": Int(exitCode), "dry_run": dryRun]
        if let install {
            object["skipped"] = install.skipped.map { ["what": $0.what, "why": $0.why] }
        }
        return object
    }

    private static func render(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// install-host stopped by Ctrl-C or SIGTERM: each file on the host is whole (a new one replaces
/// the old by rename; a part is removed when its channel closes), but the set may be half new.
public struct HostInstallInterrupted: Error, CustomStringConvertible {
    public var signal: Int32

    public init(signal: Int32) {
        self.signal = signal
    }

    public var description: String {
        "install-host interrupted (\(signalName(signal))): each file in ~/botops is whole, the previous one or the new one, "
            + "but some may not be copied yet; run botops install-host again to finish"
    }
}
