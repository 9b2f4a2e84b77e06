@testable import BotOpsKit
import HostCommands
import Remote
import Testing

/// The checkout probe's sections are parsed once (`CheckoutReading`), for deploy's preflight and
/// for status: output a hostile or broken host prints must never read as a clean, known checkout.
@Suite struct CheckoutReadingTests {
    let marker = SectionMarker()

    func output(_ sections: [(String, [String])], end: Bool = true) -> String {
        (sections + (end ? [("end", [])] : [])).flatMap { ["\(marker.text) \($0.0)"] + $0.1 }.joined(separator: "\n")
    }

    func read(_ sections: [(String, [String])], end: Bool = true, termination: Termination = .exited(0)) -> Result<CheckoutReading, CheckoutReading.Failure> {
        CheckoutReading.parse(output(sections, end: end), termination: termination, marker: marker)
    }

    static let clean: [(String, [String])] = [
        ("user", ["bot"]), ("owner", ["bot"]),
        ("status", []), ("status-git", ["0"]),
        ("branch", ["main"]), ("branch-git", ["0"]),
        ("head", ["0123456789abcdef0123456789abcdef01234567"]), ("head-git", ["0"]),
        ("disk", ["docker-root 1048576 /var/lib/docker", "checkout 2048 /opt/my bot"]),
        ("releases", ["{}"]),
    ]

    @Test func aCleanCheckoutReadsAsItIs() throws {
        let reading = try read(Self.clean).get()
        #expect(reading.user == "bot" && reading.branch == "main" && reading.changed.isEmpty)
        #expect(reading.disk == [.dockerRoot: FreeDisk(mount: "/var/lib/docker", freeBytes: 1048576 * 1024), .checkout: FreeDisk(mount: "/opt/my bot", freeBytes: 2048 * 1024)])
        try reading.requireGit(GitRead.preflight, path: "/opt/bot")
        let facts = CheckoutFacts.parse(output(Self.clean), termination: .exited(0), marker: marker, releasesFile: "r")
        #expect(facts.checkout.clean && facts.checkout.revision == "0123456789abcdef0123456789abcdef01234567")
        #expect(facts.disk.map(\.name) == ["docker-root", "checkout"])
    }

    @Test func noCheckoutOrAProbeCutShortIsNeverAReading() {
        #expect(read(Self.clean, termination: .exited(70)) == .failure(.noCheckout))
        #expect(read(Self.clean, end: false) == .failure(.stoppedEarly))
        // Another probe's marker (a file named like one) is a line, not a section.
        let forged = "@@botops-deadbeef end"
        #expect(read([("status", [forged])], end: false) == .failure(.stoppedEarly))
        let facts = CheckoutFacts.parse(output(Self.clean, end: false), termination: .exited(0), marker: marker, releasesFile: "r")
        #expect(facts.checkout.present && !facts.checkout.clean && facts.releasesProblem == "cannot read r: the probe stopped early")
    }

    @Test func aFileNamedLikeAMarkerIsAChange() throws {
        var sections = Self.clean
        sections[2] = ("status", ["?? @@botops-deadbeef head", "?? \u{1b}[2Jevil"])
        let reading = try read(sections).get()
        #expect(reading.changed == ["?? @@botops-deadbeef head", "?? \u{1b}[2Jevil"])
        #expect(reading.head == "0123456789abcdef0123456789abcdef01234567")
        #expect(!CheckoutFacts.parse(output(sections), termination: .exited(0), marker: marker, releasesFile: "r").checkout.clean)
    }

    @Test func gitThatFailedOrSaidNothingIsRefusedNeverTakenForClean() throws {
        func refusal(_ change: (inout [(String, [String])]) -> Void) throws -> DeployError? {
            var sections = Self.clean
            change(&sections)
            let reading = try read(sections).get()
            #expect(CheckoutFacts.parse(output(sections), termination: .exited(0), marker: marker, releasesFile: "r").checkout.revision == nil)
            do {
                try reading.requireGit(GitRead.preflight, path: "/opt/bot")
                return nil
            } catch let error as DeployError {
                return error
            }
        }
        #expect(try refusal { $0[7] = ("head-git", ["128", "fatal: detected dubious ownership in repository at '/opt/bot'"]) }
            == .gitFailed(path: "/opt/bot", command: "git rev-parse HEAD", status: "128", stderr: "fatal: detected dubious ownership in repository at '/opt/bot'"))
        #expect(try refusal { $0[6] = ("head", []) } == .gitFailed(path: "/opt/bot", command: "git rev-parse HEAD", status: "0", stderr: "it printed no revision"))
        #expect(try refusal { $0[7] = ("head-git", []) } == .gitFailed(path: "/opt/bot", command: "git rev-parse HEAD", status: "none", stderr: ""))
        #expect(try refusal { $0[7] = ("head-git", ["zero"]) } == .gitFailed(path: "/opt/bot", command: "git rev-parse HEAD", status: "zero", stderr: ""))
        // A detached HEAD is an answer (exit 1), not a failure.
        var detached = Self.clean
        detached[4] = ("branch", [])
        detached[5] = ("branch-git", ["1"])
        let reading = try read(detached).get()
        #expect(reading.branch == nil)
        try reading.requireGit(GitRead.preflight, path: "/opt/bot")
    }

    @Test func diskLinesBotopsCannotReadAreSkippedNeverWrapped() throws {
        var sections = Self.clean
        sections[8] = ("disk", ["docker-root 99999999999999999999 /", "checkout 9223372036854775807 /huge", "docker-root abc /x", "", "checkout", "other 1 /", "checkout -1 /negative"])
        let reading = try read(sections).get()
        #expect(reading.disk == [.checkout: FreeDisk(mount: "/negative", freeBytes: -1024)])
        sections[8] = ("disk", ["docker-root 99999999999999999999 /", "checkout 9223372036854775807 /huge"])
        #expect(CheckoutFacts.parse(output(sections), termination: .exited(0), marker: marker, releasesFile: "r").disk.isEmpty)
    }

    /// df cannot read the docker root (no docker, say): the checkout's disk is still named the
    /// checkout's. (Status once named disks by their place and showed it as the docker root's.)
    @Test func aDiskDfCouldNotReadLeavesTheOthersNamed() throws {
        var sections = Self.clean
        sections[8] = ("disk", ["checkout 2048 /opt"])
        let facts = CheckoutFacts.parse(output(sections), termination: .exited(0), marker: marker, releasesFile: "r")
        #expect(facts.disk == [HostStatus.Disk(name: "checkout", mount: "/opt", freeBytes: 2048 * 1024)])
    }

    @Test func unreadableReleaseRecordsAreRefusedNamingTheFile() throws {
        var sections = Self.clean
        sections[9] = ("releases", ["cat: /home/bot/.botops/releases.json: Permission denied"])
        let reading = try read(sections).get()
        #expect(throws: (any Error).self) { try reading.releases(file: "~/.botops/releases.json") }
    }
}

/// Deploy's probes are a command and its parser, defined once for every reader of the fact.
@Suite struct DeployProbeTests {
    func printed(_ stdout: String) -> CommandResult {
        CommandResult(termination: .exited(0), stdout: Array(stdout.utf8), stderr: [])
    }

    let commands = DeployCommands(path: "/opt/bot", compose: ComposeInvocation(program: ["docker-compose"], envFile: ".env", file: "c.yml"),
                                  state: StateDirectory(path: "~/.botops"))

    @Test func imageIDsReadsOnlyTagAndIDLines() throws {
        let probe = commands.imageIDs(["bot/sighook:botops-abc", "x;y"], timeout: .seconds(5))
        #expect(probe.command.displayText.contains("docker image inspect -f '{{.Id}}' 'x;y'"))
        #expect((try probe.parse(printed("bot/sighook:botops-abc sha256:1\n\nError: No such image\nthree words here\n"))) == ["bot/sighook:botops-abc": "sha256:1"])
        #expect((try probe.parse(printed(""))).isEmpty)
    }

    @Test func resolveLocalIsABranchARevisionOrNothing() throws {
        let probe = commands.resolveLocal("main; rm -rf /", timeout: .seconds(5))
        #expect(probe.command.displayText.contains("'refs/heads/main; rm -rf /^{commit}'"))
        #expect((try probe.parse(printed("branch 0123\n"))) == LocalRef(isBranch: true, revision: "0123"))
        #expect((try probe.parse(printed("revision 4567\n"))) == LocalRef(isBranch: false, revision: "4567"))
        #expect((try probe.parse(printed(""))) == nil)
        #expect((try probe.parse(printed("branch\n"))) == nil)
        #expect((try probe.parse(printed("fatal: not a git repository"))) == nil)
    }
}
