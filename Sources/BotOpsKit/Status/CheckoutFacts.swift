import HostCommands
import Remote

/// What deploy's preflight probe (`DeployCommands.preflightProbe`) says about the checkout, the
/// disk under the docker root and the checkout, and the release records.
// FIXME: the deploy's preflight step parses the same sections in BuiltinSteps.inspectCheckout;
// one parser should serve both once the probes move to their own module.
struct CheckoutFacts: Equatable {
    var checkout: HostStatus.Checkout
    var disk: [HostStatus.Disk]
    var releases: Releases
    /// Why the release records could not be read (deploy refuses such a file); nil when they were.
    /// Never taken for "no releases": every revision would then show as unknown with no reason.
    var releasesProblem: String?

    /// The probe exits 70 when there is no checkout. `releasesFile` names the records in messages.
    static func parse(_ stdout: String, termination: Termination, marker: SectionMarker, releasesFile: String) -> CheckoutFacts {
        let sections = marker.split(stdout)
        guard termination != .exited(70), sections["end"] != nil else {
            return CheckoutFacts(checkout: HostStatus.Checkout(present: termination != .exited(70), clean: false, changed: []),
                                 disk: [], releases: Releases(),
                                 releasesProblem: termination == .exited(70) ? nil : "cannot read \(releasesFile): the probe stopped early")
        }
        let changed = (sections["status"] ?? []).filter { !$0.isEmpty }
        let branch = sections["branch"]?.first.flatMap { $0.isEmpty ? nil : $0 }
        var disk: [HostStatus.Disk] = []
        // df prints the docker root first, then the checkout.
        for (name, line) in zip(["docker-root", "checkout"], sections["disk"] ?? []) {
            if let parsed = parseDiskLine(line, name: name) { disk.append(parsed) }
        }
        // git failed (another owner's checkout, say): nothing is known clean, no revision known.
        let gitRead = ["status-git", "head-git"].allSatisfy { sections[$0]?.first == "0" }
        let revision = gitRead ? sections["head"]?.first.flatMap { $0.isEmpty ? nil : $0 } : nil
        var releases = Releases()
        var releasesProblem: String?
        do {
            releases = try Releases.parse((sections["releases"] ?? []).joined(separator: "\n"), file: releasesFile)
        } catch {
            releasesProblem = "\(error)"
        }
        return CheckoutFacts(
            checkout: HostStatus.Checkout(present: true, branch: branch, revision: revision, clean: changed.isEmpty && revision != nil, changed: changed),
            disk: disk, releases: releases, releasesProblem: releasesProblem)
    }
}

/// "KILOBYTES-FREE MOUNT", as `df -Pk | awk '{print $4 " " $6}'` prints it.
func parseDiskLine(_ line: String, name: String) -> HostStatus.Disk? {
    let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
    guard fields.count == 2, let kilobytes = Int64(fields[0]) else { return nil }
    let (bytes, overflow) = kilobytes.multipliedReportingOverflow(by: 1024)
    return overflow ? nil : HostStatus.Disk(name: name, mount: fields[1], freeBytes: bytes)
}
