import HostCommands
import Remote

/// What a checkout probe (`DeployCommands.preflightProbe`, or its part `releasesProbe`) printed,
/// its sections parsed once: deploy's preflight judges it, `rollback --plan cron` reads the
/// releases from it, and `status` shows it (`CheckoutFacts`). A section the probe did not print is
/// empty here; nothing in it is trusted before the probe's last section came.
struct CheckoutReading: Equatable, Sendable {
    /// The ssh user (`id -un`) and the checkout's owner.
    var user: String?
    var owner: String?
    /// Per git read (`GitRead.section`): what it answered.
    var git: [String: GitAnswer] = [:]
    /// `git status --porcelain` lines: the checkout's changes.
    var changed: [String] = []
    /// nil on a detached HEAD.
    var branch: String?
    /// `git rev-parse HEAD`, "" when it printed nothing.
    var head = ""
    /// The free space df printed per disk; a disk df could not read, or whose line botops cannot, is missing.
    var disk: [PreflightDisk: FreeDisk] = [:]
    /// releases.json as read, or cat's complaint.
    var releasesText = ""

    /// A git read's exit status (nil: none printed, or not a number) and its stderr.
    struct GitAnswer: Equatable, Sendable {
        var statusText: String?
        var stderr: [String]

        var status: Int? { statusText.flatMap { Int($0) } }
    }

    enum Failure: Error, Equatable {
        /// `cd PATH` failed: the probe exits 70.
        case noCheckout
        /// The probe ended before its last section (killed, cut off, a shell error).
        case stoppedEarly
    }

    static func parse(_ stdout: String, termination: Termination, marker: SectionMarker) -> Result<CheckoutReading, Failure> {
        guard termination != .exited(70) else { return .failure(.noCheckout) }
        let sections = marker.split(stdout)
        guard sections["end"] != nil else { return .failure(.stoppedEarly) }
        var reading = CheckoutReading()
        reading.user = sections["user"]?.first
        reading.owner = sections["owner"]?.first
        for (name, lines) in sections where name.hasSuffix("-git") {
            reading.git[String(name.dropLast("-git".count))] = GitAnswer(statusText: lines.first, stderr: Array(lines.dropFirst()))
        }
        reading.changed = (sections["status"] ?? []).filter { !$0.isEmpty }
        reading.branch = sections["branch"]?.first.flatMap { $0.isEmpty ? nil : $0 }
        reading.head = sections["head"]?.first ?? ""
        for line in sections["disk"] ?? [] {
            let labeled = line.split(separator: " ", maxSplits: 1).map(String.init)
            if labeled.count == 2, let name = PreflightDisk(rawValue: labeled[0]), let free = FreeDisk.parse(labeled[1]) { reading.disk[name] = free }
        }
        reading.releasesText = (sections["releases"] ?? []).joined(separator: "\n")
        return .success(reading)
    }

    /// Every one of `reads` answered (exit status among those it accepts).
    func answered(_ reads: [GitRead]) -> Bool {
        reads.allSatisfy { read in git[read.section]?.status.map(read.accepts.contains) == true }
    }

    /// Refuses when a git read failed, or `head` printed no revision: nothing is then known clean.
    func requireGit(_ reads: [GitRead], path: String) throws {
        for read in reads where !answered([read]) {
            let answer = git[read.section]
            let stderr = (answer?.stderr ?? []).filter { !$0.isEmpty }.joined(separator: " ")
            throw DeployError.gitFailed(path: path, command: read.command.description, status: answer?.statusText ?? "none", stderr: String(stderr.prefix(500)))
        }
        if reads.contains(.head), head.isEmpty {
            throw DeployError.gitFailed(path: path, command: GitRead.head.command.description, status: "0", stderr: "it printed no revision")
        }
    }

    /// The release records read; `file` names them in the error when they cannot be read.
    func releases(file: String) throws -> Releases {
        try Releases.parse(releasesText, file: file)
    }
}
