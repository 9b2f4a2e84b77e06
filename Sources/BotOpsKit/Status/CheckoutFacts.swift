import HostCommands
import Remote

/// What deploy's preflight probe (`DeployCommands.preflightProbe`) says about the checkout, the
/// disk under the docker root and the checkout, and the release records, as `status` shows them
/// (the sections are parsed once, by `CheckoutReading`, which deploy's preflight judges).
struct CheckoutFacts: Equatable {
    var checkout: HostStatus.Checkout
    var disk: [HostStatus.Disk]
    var releases: Releases
    /// Why the release records could not be read (deploy refuses such a file); nil when they were.
    /// Never taken for "no releases": every revision would then show as unknown with no reason.
    var releasesProblem: String?

    /// The probe exits 70 when there is no checkout. `releasesFile` names the records in messages.
    static func parse(_ stdout: String, termination: Termination, marker: SectionMarker, releasesFile: String) -> CheckoutFacts {
        let reading: CheckoutReading
        switch CheckoutReading.parse(stdout, termination: termination, marker: marker) {
        case .failure(let failure):
            return CheckoutFacts(checkout: HostStatus.Checkout(present: failure != .noCheckout, clean: false, changed: []),
                                 disk: [], releases: Releases(),
                                 releasesProblem: failure == .noCheckout ? nil : "cannot read \(releasesFile): the probe stopped early")
        case .success(let read):
            reading = read
        }
        let disk = PreflightDisk.allCases.compactMap { name in
            reading.disk[name].map { HostStatus.Disk(name: name.rawValue, mount: $0.mount, freeBytes: $0.freeBytes) }
        }
        // git failed (another owner's checkout, say): nothing is known clean, no revision known.
        let revision = reading.answered([.status, .head]) && !reading.head.isEmpty ? reading.head : nil
        var releases = Releases()
        var releasesProblem: String?
        do {
            releases = try reading.releases(file: releasesFile)
        } catch {
            releasesProblem = "\(error)"
        }
        return CheckoutFacts(
            checkout: HostStatus.Checkout(present: true, branch: reading.branch, revision: revision, clean: reading.changed.isEmpty && revision != nil, changed: reading.changed),
            disk: disk, releases: releases, releasesProblem: releasesProblem)
    }
}
