import HostCommands
import Remote

/// The host facts only status reads, in one command: the host's clock, the newest report file,
/// free disk under the state directory and the host's own botops.
struct StatusExtras: Sendable {
    struct Facts: Equatable {
        var now: Int
        /// False when the host's clock could not be read: `now` is then this machine's.
        var hostClockRead: Bool = true
        var newestReport: HostStatus.FileInfo?
        var stateDisk: HostStatus.Disk?
        var hostVersion: HostStatus.HostCopy = .notInstalled
        /// The host has no `timeout`: its botops --version ran without a time limit.
        var hostVersionUnlimited = false
    }

    let config: BotOpsConfig
    let marker = SectionMarker()

    func command(timeout: Duration) -> RemoteCommand {
        let state = config.deploy.stateDirectory.script
        let glob = config.checks.reportGlob.hasPrefix("/") ? config.checks.reportGlob : config.path + "/" + config.checks.reportGlob
        return RemoteCommand(ShellScript.lines([
            HostClock.section(marker),
            marker.start("report"),
            NewestFile.script([glob]),
            marker.start("state-disk"),
            // Before the first deploy there is no state directory yet: its disk is then home's.
            "d=\(state); [ -d \"$d\" ] || d=\"$HOME\"",
            FreeDisk.script("\"$d\""),
            HostProgramVersion.section(marker, HostInstall.binaryPath),
            marker.start("end"),
        ]), timeout: timeout)
    }

    /// The host's botops as status shows it: its version, or why it does not run (so it differs);
    /// unknown when its section cannot be read, which is no sign that it is not installed.
    static func shown(_ sections: [String: [String]]) -> HostStatus.HostCopy {
        let version: HostProgramVersion
        do { version = try HostProgramVersion.parse(sections: sections) } catch { return .unknown("its --version could not be read (\(error.problem))") }
        switch version {
        case .notInstalled: return .notInstalled
        case .version(let line): return line.isEmpty ? .unknown("its --version printed nothing") : .runs(line)
        case .failed(let status, let output): return .runs("fails (exit \(status)): \(output.split(separator: "\n").first ?? "")")
        case .timedOut(let seconds): return .runs("fails: timed out after \(seconds) s")
        }
    }

    /// `localNow`: this machine's clock, the ages' reference when the host's cannot be read (read
    /// as 1970, every report, backup and container would show as 0 s old: a stale report fresh).
    func parse(_ output: String, localNow: Int) -> Facts {
        let sections = marker.split(output)
        let hostNow = try? HostClock.parse(sections: sections)
        let now = hostNow ?? localNow
        let report = NewestFile.parse(sections["report"]?.first(where: { !$0.isEmpty })).map { file in
            HostStatus.FileInfo(path: file.path, modified: Int(file.modified), ageSeconds: max(0, now - Int(file.modified)), size: file.size)
        }
        return Facts(now: now, hostClockRead: hostNow != nil, newestReport: report,
                     stateDisk: FreeDisk.parse(sections["state-disk"]?.first).map { HostStatus.Disk(name: "state-dir", mount: $0.mount, freeBytes: $0.freeBytes) },
                     hostVersion: Self.shown(sections), hostVersionUnlimited: HostProgramVersion.ranWithoutTimeLimit(sections: sections))
    }
}
