@testable import BotOpsKit
@testable import Checks
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// The preflight's refusals and docker templates, for real on the sandbox host, in its default
/// layout and in the user's (named volume in another compose project, no app healthchecks).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct PreflightTests {
    /// Docker 20.10 fails `{{if .State.Health}}` on a container without a healthcheck.
    @Test func everyDockerTemplateWorksOnAContainerWithoutAHealthcheck() async throws {
        try await DeploySandbox.withLock {
            let sandbox = try await DeploySandbox.connect()
            try await sandbox.host.closing {
                let name = "botops-test-no-healthcheck"
                try await sandbox.sh("docker rm -f \(name) >/dev/null 2>&1; docker run -d --name \(name) --network none botops-base:bookworm sleep 300 >/dev/null")
                do {
                    try await inspect(name, on: sandbox)
                } catch {
                    _ = try? await sandbox.host.run("docker rm -f \(name)")
                    throw error
                }
                try await sandbox.sh("docker rm -f \(name) >/dev/null")
            }
        }
    }

    private func inspect(_ name: String, on sandbox: DeploySandbox) async throws {
        let commands = DeployCommands(path: sandbox.sandbox.app, compose: ComposeInvocation(program: ["docker-compose"], envFile: ".env", file: "docker-compose.aws.yml"),
                                      state: StateDirectory(path: "~/.botops"))
        let states = try await sandbox.host.run(commands.containerStates([name], timeout: .seconds(30)))
        #expect(states.succeeded, "\(states.shownOutput)")
        let observation = try #require(HealthTracker.Observation.parse(states.stdout.trimmingCharacters(in: .newlines)), "\(states.shownOutput)")
        #expect(observation.status == "running" && observation.health == "")
        let exit = try await sandbox.host.run(commands.exitState(name, timeout: .seconds(30)))
        #expect(exit.succeeded && exit.stdout.hasPrefix("0 "), "\(exit.shownOutput)")
        let gate = try await sandbox.host.run(ContainerState.gateCommand(container: name), timeout: .seconds(30))
        #expect(gate.stdoutText == "ok\n", "\(gate.stderrText)")
        // The database container's state, as verify, gate and status read it.
        let marker = SectionMarker()
        let read = try await sandbox.host.run(RemoteCommand(ContainerState.script(container: name, marker: marker), timeout: .seconds(30)))
        let state = try ContainerState.parse(sections: marker.split(read.stdout), now: 0)
        #expect(state.inspectError == nil && state.gate == "ok" && state.status == "running" && state.health == nil, "\(read.shownOutput)")
        #expect(state.restarts == 0 && state.id.count == 64 && state.startedAt != nil, "\(read.shownOutput)")
        let probed = try await sandbox.host.run(commands.runningDatabase(name, timeout: .seconds(30)))
        let database = try RunningDatabase.parse(stdout: probed.stdout, stderr: probed.result.stderrText, container: name)
        #expect(database.data == .none && database.project == nil)
    }

    static let layouts: [SandboxLayout?] = [nil, .userHost]

    /// Judged on the target revision, before anything moves: the data volume, the db service, the
    /// env file and ignored files. Each refusal is exit 4 and leaves the checkout where it was.
    @Test(arguments: layouts)
    func theTargetRevisionIsJudgedBeforeTheCheckoutMoves(layout: SandboxLayout?) async throws {
        try await DeploySandbox.scenario(layout: layout) { sandbox in
            let config = try sandbox.config()
            let compose = try (layout ?? SandboxLayout(project: nil, namedVolume: false, appHealthchecks: true)).composeFile()
            let before = try await sandbox.checkout()
            let dbContainer = try await sandbox.sh("docker inspect -f '{{.Id}}' db")

            func refused(_ files: [String: String], removed: [String] = [], _ message: String) async throws -> DeployError? {
                let branch = "test/preflight"
                try await sandbox.commit(on: branch, files: files, removed: removed, message: message)
                let (deployer, events) = try sandbox.deployer(config)
                let error = await #expect(throws: DeployError.self, "\(message)") {
                    try await deployer.deploy(DeployRequest(services: ["sighook"], ref: branch, command: "botops deploy --service sighook"))
                }
                #expect(error?.exitCode == .refused, "\(events.text)")
                // Stops the test at once: a deploy that went through would go on to overwrite .env below.
                try #require(try await sandbox.checkout() == before, "\(message): the checkout moved")
                return error
            }

            let moved = compose.replacing("- pg_data:/var/lib/postgresql/data", with: "- fresh_data:/var/lib/postgresql/data") + "  fresh_data: {}\n"
            let movedError = try await refused(["docker-compose.aws.yml": moved], "db: data on a new volume")
            let project = try await sandbox.runningProject()
            #expect(movedError == .databaseDataMoved(container: "db", file: "docker-compose.aws.yml", revision: try await sandbox.sh("git -C \(shellQuote(sandbox.origin)) rev-parse test/preflight"),
                                                     running: .volume("bottrader-aws_pg_data"), target: .volume("\(project)_fresh_data")))

            let anonymous = compose.replacing("- pg_data:/var/lib/postgresql/data", with: "- /var/lib/postgresql/data")
            _ = try await refused(["docker-compose.aws.yml": anonymous], "db: data on an anonymous volume")

            var withoutDB = compose
            let dbStart = try #require(withoutDB.range(of: "  db:\n")), sighook = try #require(withoutDB.range(of: "  sighook:\n"))
            withoutDB.removeSubrange(dbStart.lowerBound..<sighook.lowerBound)
            withoutDB = withoutDB.replacing("    depends_on: [db]\n", with: "")
            let noDB = try await refused(["docker-compose.aws.yml": withoutDB], "no db service")
            #expect(noDB?.description.contains("declares no database service 'db'") == true)

            // The env file and an ignored file the host has (the fixture ignores .env and logs/).
            try await sandbox.sh("touch \(shellQuote(sandbox.sandbox.app))/logs/preflight-test.log")
            let ignored = try await refused([".gitignore": ".env\n", "logs/preflight-test.log": "x\n"], "tracks an ignored file the host has")
            #expect(ignored == .tracksHostFiles(revision: try await sandbox.sh("git -C \(shellQuote(sandbox.origin)) rev-parse test/preflight"),
                                                files: ["logs/preflight-test.log"]))
            let tracked = try await refused([".gitignore": "", ".env": "EXCHANGE_API_SECRET=committed\n", "logs/preflight-test.log": "x\n"], "tracks .env and logs/")
            #expect(tracked == .tracksHostFiles(revision: try await sandbox.sh("git -C \(shellQuote(sandbox.origin)) rev-parse test/preflight"),
                                                files: [".env", "logs/preflight-test.log"]))
            #expect(try await sandbox.sh("grep -c fake-secret-do-not-print \(shellQuote(sandbox.sandbox.app))/.env") == "1")
            try await sandbox.sh("rm -f \(shellQuote(sandbox.sandbox.app))/logs/preflight-test.log")

            #expect(try await sandbox.sh("docker inspect -f '{{.Id}}' db") == dbContainer, "the db container was replaced")
        }
    }

    /// A rollback's target is judged as a deploy's is, its `compose config` read beside the current
    /// checkout's (spelled on the host, compose.command auto): a revision that moves the data is refused.
    @Test func aRollbackTargetThatMovesTheDataIsRefused() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config()
            let compose = try SandboxLayout(project: nil, namedVolume: false, appHealthchecks: true).composeFile()
            let before = try await sandbox.checkout()
            let moved = compose.replacing("- pg_data:/var/lib/postgresql/data", with: "- fresh_data:/var/lib/postgresql/data") + "  fresh_data: {}\n"
            try await sandbox.commit(on: "test/rollback-judged", files: ["docker-compose.aws.yml": moved], message: "db: data on a new volume")
            let app = shellQuote(sandbox.sandbox.app)
            let revision = try await sandbox.sh("git -C \(app) fetch -q origin test/rollback-judged && git -C \(app) rev-parse FETCH_HEAD")
            let (deployer, events) = try sandbox.deployer(config)
            let error = await #expect(throws: DeployError.self) {
                try await deployer.rollback(RollbackRequest(services: ["sighook"], to: revision, command: "botops rollback --service sighook --to \(revision)"))
            }
            guard case .databaseDataMoved(_, _, let judged, _, _, _) = error else { Issue.record("\(String(describing: error))\n\(events.text)"); return }
            #expect(judged == revision && error?.exitCode == .refused)
            #expect(try await sandbox.checkout() == before, "the checkout moved")
        }
    }

    /// Too little free disk (the free-disk probe status reads too) is refused before anything moves.
    @Test func aDiskWithoutRoomIsRefusedBeforeAnythingMoves() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config()
            try (try String(contentsOfFile: config, encoding: .utf8) + "deploy: {min_free_disk: 1000TB}\n").write(toFile: config, atomically: true, encoding: .utf8)
            let before = try await sandbox.checkout()
            let (deployer, events) = try sandbox.deployer(config)
            let error = await #expect(throws: DeployError.self) {
                try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            }
            guard case let .lowDisk(mount, free, needed)? = error else {
                Issue.record("not a low-disk refusal: \(String(describing: error)) \(events.text)")
                return
            }
            // The docker root's disk comes first, read (a disk df could not read is never judged).
            let dockerRoot = try await sandbox.sh("df -P \"$(docker info -f '{{.DockerRootDir}}')\" | awk 'NR == 2 { print $6 }'")
            #expect(mount == dockerRoot.trimmingCharacters(in: .whitespacesAndNewlines) && free > 0 && needed == 1000 << 40)
            #expect(error?.exitCode == .refused)
            #expect(try await sandbox.checkout() == before, "the checkout moved")
        }
    }

    /// botops never creates the database's first container: a deploy with none running is refused.
    @Test func noRunningDatabaseIsRefused() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config()
            try await sandbox.sh("docker stop db >/dev/null")
            let (deployer, events) = try sandbox.deployer(config)
            let error = await #expect(throws: DeployError.self) {
                try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            }
            try await sandbox.sh("docker start db >/dev/null && for i in $(seq 60); do [ \"$(docker inspect -f '{{.State.Health.Status}}' db)\" = healthy ] && break; sleep 1; done")
            #expect(error == .databaseNotRunning(container: "db", state: "it is not running"), "\(events.text)")
            #expect(error?.exitCode == .refused)
        }
    }

    /// git failing in the checkout (here a `git` first on the bot user's PATH that exits 128, as
    /// git does on a checkout it does not trust) used to read as a clean tree at an empty
    /// revision: deploy --ref tagged a kept image `botops-` before failing at checkout and said
    /// nothing had changed. Now the preflight refuses (exit 4) in git's own words, tagging nothing.
    @Test func aFailingGitIsRefusedAndNothingIsTagged() async throws {
        try await DeploySandbox.withLock {
            let sandbox = try Sandbox.require()
            let fake = FileManager.default.temporaryDirectory.appendingPathComponent("botops-git-fails-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: fake) }
            let git = fake.appendingPathComponent("git")
            try writeExecutable("#!/bin/sh\necho \"fatal: botops test: this git cannot read $PWD\" >&2\nexit 128\n", to: git.path)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
            let images = "docker images bottrader/sighook --format '{{.Tag}} {{.ID}}' | sort"
            let before = try await LocalHost().run(images).stdoutText
            let path = fake.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            let result = try await BuiltBinary.botops.run(["deploy", "--local", "--yes", "--config", sandbox.configFile, "--service", "sighook", "--ref", "main"],
                                                          prefix: ["runuser", "-u", sandbox.value("SANDBOX_USER"), "--", "env", "PATH=\(path)"])
            let output = result.stdoutText + result.stderrText
            #expect(try await LocalHost().run(images).stdoutText == before, "\(output)")
            #expect(result.termination == .exited(4), "\(output)")
            #expect(output.contains("fatal: botops test: this git cannot read \(sandbox.app)"), "\(output)")
            #expect(output.contains("git -C \(sandbox.app) status"), "the refusal names the fix: \(output)")

            // The real thing: git as root distrusts the bot user's checkout (unless root trusts it).
            guard try await LocalHost().run("git -C \(shellQuote(sandbox.app)) status --porcelain").termination != .exited(0) else { return }
            let root = try await BuiltBinary.botops.run(["deploy", "--local", "--dry-run", "--config", sandbox.configFile, "--service", "sighook", "--ref", "main"])
            #expect(root.termination == .exited(4), "\(root.stdoutText)\(root.stderrText)")
            #expect(root.stderrText.contains("dubious ownership") && root.stderrText.contains("git config --global --add safe.directory \(sandbox.app)"), "\(root.stderrText)")
        }
    }
}
