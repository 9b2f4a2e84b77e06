@testable import Checks
import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Every config value that reaches the host's shell, made of shell metacharacters and run through
/// the sandbox's real sshd: nothing may execute (no marker file appears), and each value must be
/// used literally (the checks find the files at the hostile paths). Values the loader refuses
/// are given to the checks directly, below botops.yml's validation.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct QuotingSandboxTests {
    let sandbox: Sandbox
    let base: URL
    let marker: String

    init() throws {
        sandbox = try Sandbox.require()
        let id = UUID().uuidString.prefix(8)
        base = URL(fileURLWithPath: "/tmp/botops-quote-\(id)")
        marker = "/tmp/botops-quote-\(id)-ran"
    }

    /// Quotes (balanced, so a careless shell would go on to run the rest), separators,
    /// substitutions, globs and a redirection, each trying to create a marker.
    func hostile(_ key: String) -> String {
        let touch = "touch \(marker)-\(key)"
        return "a'b'\"c\";\(touch);$(\(touch))`\(touch)`|d&e>f <g* $HOME\\"
    }

    var markersCreated: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        return names.filter { $0.hasPrefix(URL(fileURLWithPath: marker).lastPathComponent) }
    }

    /// Creates `relative` under the app directory as a file (with `contents`) or directory, owned
    /// by the ssh user, without any shell.
    func create(_ relative: String, in app: String, contents: String? = nil, mode: Int = 0o644) throws {
        let url = URL(fileURLWithPath: app + "/" + relative)
        let directory = contents == nil ? url : url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // An executable is written by a child shell (`writeExecutable`: ETXTBSY otherwise).
        if let contents, mode == 0o755 {
            try writeExecutable(contents, to: url.path)
        } else if let contents {
            try contents.write(to: url, atomically: false, encoding: .utf8)
            chmod(url.path, mode_t(mode))
        }
    }

    /// Hands everything under `base` to the ssh user, so its checks read and write as on a host.
    func giveToSSHUser() throws {
        let user = try #require(getpwnam(sandbox.value("SANDBOX_USER")))
        let paths = [base.path] + (FileManager.default.enumerator(atPath: base.path)?.compactMap { $0 as? String }.map { base.path + "/" + $0 } ?? [])
        for path in paths {
            chown(path, user.pointee.pw_uid, user.pointee.pw_gid)
        }
    }

    /// The nine checks read the shared host (its crontab, the db container and database), which
    /// other checkouts' tests change under the sandbox lock: in turn with them.
    func checksUnderTheLock(_ settings: CheckSettings) async throws -> [CheckID: CheckResult] {
        let report = try await SandboxLock.holding {
            let host = try await SSHConnection.connect(to: try sandbox.target())
            return try await host.closing { await (try CheckRunner()).run(in: CheckContext(host: host, settings: settings)) }
        }
        return Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0) })
    }

    var sandboxSettings: CheckSettings {
        get throws { try BotOpsConfig.load(path: sandbox.configFile).checkSettings() }
    }

    @Test func pathScriptQueriesAndGlobAreLiteral() async throws {
        defer { try? FileManager.default.removeItem(at: base) }
        let app = base.path + "/app " + hostile("path")
        let reports = "reports " + hostile("report_glob")
        let script = reports + "/review " + hostile("report_script") + ".sh"
        let query = "q " + hostile("queries") + ".sql"
        let report = app + "/" + reports + "/r-1.txt"
        try create(reports, in: app)
        try create(script, in: app, contents: "#!/bin/sh\necho report > \(shellQuote(report))\necho written\n", mode: 0o755)
        try create("queries/" + query, in: app, contents: "SELECT 1;\n")
        try giveToSSHUser()

        var settings = try sandboxSettings
        settings.appPath = app
        settings.reportScript = script
        settings.queries = [query]
        settings.reportGlob = reports + "/r*.txt"
        let results = try await checksUnderTheLock(settings)

        #expect(markersCreated.isEmpty, "the shell ran part of a config value: \(markersCreated)")
        for id in [CheckID.scriptExecutable, .queriesPresent, .reportGeneration, .reportFile] {
            #expect(results[id]?.status == .pass, "\(id.rawValue): \(results[id]?.message ?? "")")
        }
        #expect(results[.reportFile]?.evidence.first == Evidence("file", report))
        #expect(results[.cronScheduled]?.message.contains("no crontab line runs \(app)/\(script)") == true)
    }

    @Test func databaseValuesAreLiteral() async throws {
        var window = try sandboxSettings
        window.linkageWindow = "1 day'::interval; SELECT 1; --" + hostile("linkage_window")
        let windowResults = try await checksUnderTheLock(window)
        #expect(windowResults[.tradeLinkage]?.status == .fail)
        #expect(windowResults[.tradeLinkage]?.message.contains("invalid input syntax for type interval: \"\(window.linkageWindow)\"") == true,
                "\(windowResults[.tradeLinkage]?.message ?? "")")

        var names = try sandboxSettings
        names.databaseContainer = "db" + hostile("container")
        let nameResults = try await checksUnderTheLock(names)
        #expect(nameResults[.dbRunning]?.message.contains("No such container: \(names.databaseContainer)") == true,
                "\(nameResults[.dbRunning]?.message ?? "")")

        var login = try sandboxSettings
        login.databaseUser = "bot_user" + hostile("user")
        login.databaseName = "bot_trader_db" + hostile("name")
        let loginResults = try await checksUnderTheLock(login)
        #expect(loginResults[.dbConnectivity]?.status == .fail)
        // PostgreSQL shortens names to 63 bytes.
        #expect(loginResults[.dbConnectivity]?.message.contains("role \"" + login.databaseUser.utf8.prefix(63).map { Character(UnicodeScalar($0)) } + "\" does not exist") == true,
                "\(loginResults[.dbConnectivity]?.message ?? "")")

        #expect(markersCreated.isEmpty, "the shell ran part of a config value: \(markersCreated)")
    }
}
