import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Remote
import SandboxSupport
import Testing

/// The sandbox host as the deploy tests use it: its git origin, its database, its stack. Every
/// test holds the shared sandbox lock while it changes anything, creates its own commits, and
/// puts the host back (the app on `main` at the origin's head, the stack healthy) also on failure.
struct DeploySandbox {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let sandbox: Sandbox
    let host: SSHConnection
    let origin: String
    /// origin/main when the test began: restored at the end.
    let mainHead: String

    /// Holds the sandbox lock (SandboxSupport's, the one every sandbox test takes) around `body`.
    static func withLock<T>(_ body: () async throws -> T) async throws -> T {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        return try await body()
    }

    static func connect() async throws -> DeploySandbox {
        let sandbox = try Sandbox.require()
        let host = try await SSHConnection.connect(to: try sandbox.target())
        let origin = try await host.run("git -C \(shellQuote(sandbox.app)) remote get-url origin").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let head = try await host.run("git ls-remote \(shellQuote(origin)) refs/heads/main | cut -f1").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        return DeploySandbox(sandbox: sandbox, host: host, origin: origin, mainHead: head)
    }

    /// Runs `script` on the host as the ssh user; it must succeed.
    @discardableResult
    func sh(_ script: String, timeout: Duration = .seconds(120)) async throws -> String {
        let result = try await host.run(script, timeout: timeout)
        guard result.succeeded else {
            throw TestFailure("`\(script.prefix(200))` ended with \(result.termination): \(result.stderrText.prefix(500))")
        }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A commit on `branch` (made from `base`) with `files` written (mode 755 for names in
    /// `executable`, 644 for those in `plain`) and `removed` deleted, pushed to the origin. Returns its hash.
    @discardableResult
    func commit(on branch: String, from base: String = "main", files: [String: String] = [:], executable: Set<String> = [],
                plain: Set<String> = [], removed: [String] = [], message: String) async throws -> String {
        var script = "set -e; work=$(mktemp -d); trap 'rm -rf \"$work\"' EXIT; git clone -q \(shellQuote(origin)) \"$work\"; cd \"$work\"\n"
        script += "git checkout -q -B \(shellQuote(branch)) \(shellQuote("origin/" + base))\n"
        for (path, content) in files.sorted(by: { $0.key < $1.key }) {
            script += "mkdir -p \"$(dirname \(shellQuote(path)))\"; printf '%s' \(shellQuote(content)) > \(shellQuote(path))\n"
        }
        for path in executable { script += "chmod 755 \(shellQuote(path))\n" }
        for path in plain { script += "chmod 644 \(shellQuote(path))\n" }
        for path in removed { script += "git rm -q \(shellQuote(path))\n" }
        script += "git add -A; git -c user.name=botops-test -c user.email=test@botops.invalid commit -q -m \(shellQuote(message))\n"
        script += "git push -q -f origin HEAD:\(shellQuote("refs/heads/" + branch)); git rev-parse HEAD"
        return try await sh(script)
    }


    /// The checkout's branch and revision.
    func checkout() async throws -> (branch: String, revision: String) {
        let app = shellQuote(sandbox.app)
        let branch = try await sh("git -C \(app) symbolic-ref -q --short HEAD || echo detached")
        return (branch, try await sh("git -C \(app) rev-parse HEAD"))
    }

    /// The image a service's container runs.
    func runningImage(_ container: String) async throws -> String {
        try await sh("docker inspect -f '{{.Image}}' \(shellQuote(container))")
    }

    /// `trade_records` row count and a checksum over every row: the database must survive everything.
    func databaseFingerprint() async throws -> String {
        let sql = "SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM trade_records t"
        return try await sh(shellCommand(["docker", "exec", "db", "psql", "-X", "-At", "-U", "bot_user", "-d", "bot_trader_db", "-c", sql]))
    }

    /// botops.yml for the tests: the sandbox's, with a short stable window and this repository's playbooks.
    func config(compose: String = "auto", playbooks: String = repositoryRoot.appendingPathComponent("playbooks").path) throws -> String {
        let directory = try temporaryDirectory()
        let base = try String(contentsOfFile: sandbox.configFile, encoding: .utf8).replacing("command: auto", with: "command: \(compose)")
        let text = base + """
            health: {timeout: 40s, stable_for: 2s}
            playbooks: \(playbooks)

            """
        let path = directory.appendingPathComponent("botops.yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The newest audit records on the host.
    func audit(last count: Int) async throws -> [AuditRecord] {
        try await AuditLog(state: StateDirectory(path: "~/.botops"), runner: host).read(last: count)
    }

    /// Puts the host back: origin's main at `mainHead`, the checkout on main there, every service
    /// running main's image (kept images make this fast), the stack healthy.
    func restore(services: [String] = ["sighook"]) async throws {
        // The tests' own branches go (they are all named test/…, or feature/…-test).
        try await sh("""
            git -C \(shellQuote(origin)) update-ref refs/heads/main \(shellQuote(mainHead)) \
              && git -C \(shellQuote(origin)) for-each-ref --format='%(refname:short)' refs/heads/test 'refs/heads/feature/*-test' | xargs -r git -C \(shellQuote(origin)) branch -q -D
            """)
        let app = shellQuote(sandbox.app)
        // A test that failed half-way may leave files or another branch behind.
        try await sh("""
            cd \(app) && git reset -q --hard && git clean -qfd -e logs && git checkout -q -B main \(shellQuote(mainHead)) \
              && git for-each-ref --format='%(refname:short)' refs/heads | grep -vx main | xargs -r git branch -q -D
            """)
        let (deployer, events) = try deployer(config())
        let outcome = try await deployer.rollback(RollbackRequest(services: services, to: mainHead, command: "test restore"))
        guard outcome.exitCode == .success else {
            throw TestFailure("restoring the sandbox failed: \(outcome.summary)\n\(events.text)")
        }
    }

    /// Runs `body` with the lock held and a connection, then puts the host back, also when `body`
    /// fails. The database must come out of every scenario as it went in: `trade_records`' row
    /// count and checksum are compared.
    /// With a `layout`, the stack runs in that layout for `body`, and in the default one again after.
    static func scenario(restoring services: [String] = ["sighook"], layout: SandboxLayout? = nil,
                         _ body: (DeploySandbox) async throws -> Void) async throws {
        try await withLock {
            let sandbox = try await connect()
            try await sandbox.host.closing {
                let database = try await sandbox.databaseFingerprint()
                do {
                    if let layout { try await sandbox.apply(layout) }
                    try await body(sandbox)
                } catch {
                    try? await sandbox.restore(services: services)
                    if layout != nil { try? await SandboxLayout.restack(project: nil) }
                    throw error
                }
                try await sandbox.restore(services: services)
                if layout != nil { try await SandboxLayout.restack(project: nil) }
                #expect(try await sandbox.databaseFingerprint() == database, "trade_records changed")
            }
        }
    }

    /// The fixture's compose file with `lines` added to the sighook service.
    static func composeFile(sighook lines: [String]) throws -> String {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("scripts/sandbox-app/docker-compose.aws.yml"), encoding: .utf8)
        return text.replacing("    container_name: sighook\n", with: "    container_name: sighook\n" + lines.map { "    \($0)\n" }.joined())
    }

    /// A deployer for `configPath` on this connection, and the events it reports.
    func deployer(_ configPath: String) throws -> (Deployer, EventLog) {
        let config = try BotOpsConfig.load(path: configPath)
        let events = EventLog()
        let deployer = Deployer(config: config,
                                deployPlaybook: try config.deploy.loadPlaybook(.deploy, configPath: configPath),
                                rollbackPlaybook: try config.deploy.loadPlaybook(.rollback, configPath: configPath),
                                runner: host, emit: events.append)
        return (deployer, events)
    }
}

/// The events of one run, and their text as the terminal would show it.
final class EventLog: @unchecked Sendable {
    private let mutex = NSLock()
    private var stored: [DeployEvent] = []

    @Sendable func append(_ event: DeployEvent) {
        mutex.withLock { stored.append(event) }
    }

    var events: [DeployEvent] { mutex.withLock { stored } }

    var text: String {
        events.compactMap { TextEventRenderer().render($0) }.joined(separator: "\n")
    }

    var notices: [String] {
        events.compactMap { if case .notice(let text) = $0 { text } else { nil } }
    }

    var stepNames: [String] {
        events.compactMap { if case .stepFinished(let name, _, _, _) = $0 { name } else { nil } }
    }
}
