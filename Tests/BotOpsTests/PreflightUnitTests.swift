@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import Testing

/// The data-volume rule and the stop timeout, on `compose config` output as compose v1 and v2 print it.
@Suite struct PreflightUnitTests {
    static func compose(db volumes: String, top: String) -> String {
        """
        services:
          db:
            container_name: db
            image: postgres:15
            volumes:
        \(volumes)
          sighook:
            image: bottrader/sighook:latest
        \(top)
        """
    }

    static let running = RunningDatabase(container: "db", project: "bottrader-aws", dataDirectory: "/var/lib/postgresql/data",
                                         data: .volume("bottrader-aws_pg_data"), mountPoint: "/var/lib/postgresql/data")

    func judge(_ text: String, _ database: RunningDatabase = running) throws {
        try database.judge(try ComposeProject.parse(text), file: "docker-compose.aws.yml", revision: "abcdef0123456789")
    }

    /// A disk df printed nothing for is refused (exit 4, saying df could not read it), as backup
    /// and restore refuse it: it was skipped, and a build could fill it after the stop.
    /// `min_free_disk: 0` judges no disk.
    @Test func aDiskDfCannotReadIsRefusedNotSkipped() throws {
        let roomy = FreeDisk(mount: "/", freeBytes: 8 << 30)
        let error = #expect(throws: DeployError.self) { try Deployer.judgeDisks([.checkout: roomy], needed: 1 << 30) }
        #expect(error?.description.hasPrefix("df could not read the disk of docker's root directory") == true, "\(String(describing: error))")
        #expect(error?.description.contains("deploy.min_free_disk: 0") == true)
        #expect(error?.exitCode == .refused)
        try Deployer.judgeDisks([.checkout: roomy, .dockerRoot: roomy], needed: 1 << 30)
        try Deployer.judgeDisks([:], needed: 0)
    }

    @Test func aNamedVolumeIsTheProjectsAndAnExternalOneKeepsItsName() throws {
        // v1 prints the key; the project makes the name.
        try judge(Self.compose(db: "    - pg_data:/var/lib/postgresql/data:rw", top: "volumes:\n  pg_data: {}"))
        // v2 prints the resolved name, in the long syntax.
        try judge(Self.compose(db: "    - {type: volume, source: pg_data, target: /var/lib/postgresql/data}",
                               top: "volumes:\n  pg_data: {name: bottrader-aws_pg_data}"))
        try judge(Self.compose(db: "    - pg_data:/var/lib/postgresql/data/", top: "volumes:\n  pg_data: {external: true, name: bottrader-aws_pg_data}"))
        try judge(Self.compose(db: "    - bottrader-aws_pg_data:/var/lib/postgresql/data", top: "volumes:\n  bottrader-aws_pg_data: {external: true}"))
        try judge(Self.compose(db: "    - pg_data:/var/lib/postgresql/data", top: "volumes:\n  pg_data: {external: {name: bottrader-aws_pg_data}}"))
    }

    @Test(arguments: [
        // Another named volume, or the same key in another project: empty data.
        (compose(db: "    - pg_data2:/var/lib/postgresql/data", top: "volumes:\n  pg_data2: {}"), DataMount.volume("bottrader-aws_pg_data2")),
        (compose(db: "    - data:/var/lib/postgresql/data", top: "volumes:\n  data: {external: true}"), .volume("data")),
        (compose(db: "    - /var/lib/postgresql/data", top: ""), .anonymous),
        (compose(db: "    - /srv/pg:/var/lib/postgresql/data", top: ""), .bind("/srv/pg")),
        (compose(db: "    - pg_data:/somewhere/else", top: "volumes:\n  pg_data: {}"), DataMount.none),
    ])
    func dataElsewhereIsRefusedNamingBothVolumes(text: String, target: DataMount) throws {
        let error = #expect(throws: DeployError.self) { try judge(text) }
        #expect(error == .databaseDataMoved(container: "db", file: "docker-compose.aws.yml", revision: "abcdef0123456789",
                                            running: .volume("bottrader-aws_pg_data"), target: target))
        #expect(error?.exitCode == .refused)
        #expect(error?.description.contains("volume bottrader-aws_pg_data") == true)
    }

    /// The data directory is the container's PGDATA: a target that moves PGDATA off the volume
    /// (or within it) would start postgres on an empty cluster though the volume is the same.
    @Test func aTargetThatMovesPGDATAIsRefused() throws {
        let atRoot = "    - pg_data:/var/lib/postgresql/data"
        for environment in ["    environment: {PGDATA: /pgdata}", "    environment: [\"PGDATA=/var/lib/postgresql/data/pgdata\"]"] {
            let text = Self.compose(db: atRoot + "\n" + environment, top: "volumes:\n  pg_data: {}")
            let error = #expect(throws: DeployError.self, "\(environment)") { try judge(text) }
            #expect(error?.exitCode == .refused)
        }
        // The same PGDATA spelled out, or inherited, is fine.
        try judge(Self.compose(db: atRoot + "\n    environment: {PGDATA: /var/lib/postgresql/data/}", top: "volumes:\n  pg_data: {}"))
    }

    /// The common PGDATA in a subdirectory of the volume (the official image's advice for some
    /// filesystems): the running container's data is on the volume that contains PGDATA.
    @Test func aPGDATABelowTheMountIsOnThatMount() throws {
        let mounts = #"[{"Type":"volume","Name":"bottrader-aws_pg_data","Destination":"/var/lib/postgresql/data"}]"#
        let running = try RunningDatabase.parse(stdout: "true\n{\"com.docker.compose.project\":\"bottrader-aws\"}\n\(mounts)\n/var/lib/postgresql/data/pgdata\n",
                                                stderr: "", container: "db")
        #expect(running.data == .volume("bottrader-aws_pg_data"))
        let volume = "    - pg_data:/var/lib/postgresql/data"
        try judge(Self.compose(db: volume + "\n    environment: {PGDATA: /var/lib/postgresql/data/pgdata}", top: "volumes:\n  pg_data: {}"), running)
        // PGDATA set in the env file (not in compose config's output): the running value holds.
        try judge(Self.compose(db: volume, top: "volumes:\n  pg_data: {}"), running)
        // The volume mounted one level deeper: the cluster would be at another path inside it.
        #expect(throws: DeployError.self) {
            try judge(Self.compose(db: "    - pg_data:/var/lib/postgresql/data/pgdata\n    environment: {PGDATA: /var/lib/postgresql/data/pgdata}",
                                   top: "volumes:\n  pg_data: {}"), running)
        }
    }

    @Test func noDatabaseServiceIsRefused() throws {
        let error = #expect(throws: DeployError.self) { try judge("services:\n  sighook:\n    image: x\n") }
        #expect(error?.description.contains("declares no database service 'db'") == true)
    }

    @Test func theRunningContainerIsReadFromDockersOwnJSON() throws {
        let mounts = #"[{"Type":"bind","Source":"/opt/bot/db","Destination":"/docker-entrypoint"},{"Type":"volume","Name":"bottrader-aws_pg_data","Source":"/var/lib/docker/volumes/x/_data","Destination":"/var/lib/postgresql/data"}]"#
        let stdout = "true\n{\"com.docker.compose.project\":\"bottrader-aws\"}\n\(mounts)\n"
        let parsed = try RunningDatabase.parse(stdout: stdout, stderr: "", container: "db")
        #expect(parsed == Self.running)
        let custom = try RunningDatabase.parse(stdout: "true\nnull\n[{\"Type\":\"bind\",\"Source\":\"/srv/pg\",\"Destination\":\"/pg\"}]\n/pg\n", stderr: "", container: "db")
        #expect(custom.data == .bind("/srv/pg") && custom.project == nil && custom.dataDirectory == "/pg")
        #expect(throws: DeployError.databaseNotRunning(container: "db", state: "it is not running")) {
            try RunningDatabase.parse(stdout: "false\n{}\n[]\n", stderr: "", container: "db")
        }
        #expect(throws: DeployError.databaseNotRunning(container: "db", state: "there is no such container")) {
            try RunningDatabase.parse(stdout: "", stderr: "Error: No such container: db", container: "db")
        }
    }

    /// The probe's git reads, run for real in a local repository: a detached HEAD (symbolic-ref
    /// exits 1) is an answer; outside a repository git exits 128 and that is a refusal in git's words.
    @Test func aGitReadCarriesItsStatusAndAFailingOneIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-gitread-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let commands = DeployCommands(path: directory.path, compose: ComposeInvocation(program: ["docker-compose"], envFile: ".env", file: "c.yml"),
                                      state: StateDirectory(path: "~/.botops"))
        func probe() async throws -> CheckoutReading {
            let script = ShellScript.lines(["export GIT_CEILING_DIRECTORIES=\(directory.deletingLastPathComponent().path)", "cd \(directory.path)"]
                                           + GitRead.preflight.map(commands.gitRead) + [commands.marker.start("end")])
            return try CheckoutReading.parse(try await LocalHost().run(script.text).stdoutText, termination: .exited(0), marker: commands.marker).get()
        }
        let outside = try await probe()
        let error = #expect(throws: DeployError.self) { try outside.requireGit(GitRead.preflight, path: directory.path) }
        guard case let .gitFailed(_, command, status, stderr) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(command == "git status --porcelain --untracked-files=normal" && status == "128" && stderr.contains("not a git repository"), "\(stderr)")
        #expect(error?.exitCode == .refused)

        _ = try await LocalHost().run("cd \(shellQuote(directory.path)) && git init -q && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m one && git checkout -q --detach")
        let detached = try await probe()
        try detached.requireGit(GitRead.preflight, path: directory.path)
        #expect(detached.branch == nil && detached.head.count == 40, "\(detached)")
    }

    @Test func theStopStepWaitsForTheLongestGracePeriodAndSaysSo() {
        #expect(DeployCommands.stopTimeout(playbook: .seconds(120), graces: [.seconds(10), .seconds(150)]) == .seconds(180))
        #expect(DeployCommands.stopTimeout(playbook: .seconds(120), graces: [.seconds(10)]) == .seconds(120))
        #expect(DeployCommands.stopTimeout(playbook: .seconds(120), graces: []) == .seconds(120))
        let commands = DeployCommands(path: "/opt/bot", compose: ComposeInvocation(program: ["docker-compose"], envFile: ".env", file: "c.yml"),
                                      state: StateDirectory(path: "~/.botops"))
        let stop = commands.stop("sighook", container: "abc", grace: .seconds(150), timeout: .seconds(180))
        #expect(stop.changesText == "stops sighook (SIGTERM, SIGKILL after 150 s; botops waits up to 180 s)")
    }

    /// compose v1 crashes on some files read from stdin (`extends: {file: …}`): the message keeps
    /// the end of its output, where the error is, not the traceback's first lines.
    @Test func aComposeFailureIsReportedByItsLastLines() {
        let traceback = "spelling v1\nTraceback (most recent call last):\n" + String(repeating: "  File \"/usr/lib/python3/dist-packages/compose/config/config.py\", line 442, in load\n    x = y\n", count: 8)
            + "TypeError: expected str, bytes or os.PathLike object, not NoneType\n"
        let text = ComposeInvocation.failureText(traceback)
        #expect(text.hasSuffix("TypeError: expected str, bytes or os.PathLike object, not NoneType") && text.count <= 300, "\(text)")
        #expect(ComposeInvocation.failureText("spelling v2\nERROR: services.db.volumes contains an invalid type\n") == "ERROR: services.db.volumes contains an invalid type")
    }

    @Test func everyComposeCallNamesTheRunningProject() {
        var compose = ComposeInvocation(program: ["docker", "compose"], envFile: ".env", file: "c.yml")
        compose.project = "bottrader-aws"
        #expect(compose(["up", "-d"]).text == "docker compose -p bottrader-aws --env-file .env -f c.yml up -d")
        #expect(compose.config(at: "abc", path: "/opt/bot").text.contains("git show abc:c.yml | {\ndocker compose -p bottrader-aws --env-file .env -f - --project-directory /opt/bot config\n}"))
    }
}

/// The tracked-host-files probe on a real git repository (this machine's shell): the env file is
/// found however botops.yml spells it (config accepts relative paths without ..), in a checkout
/// whose path has a space.
@Suite struct TrackedHostFilesTests {
    @Test(arguments: ["ENV", "./ENV", "././ENV", ".//ENV"])
    func aTrackedEnvFileIsFoundHoweverItIsSpelled(spelling: String) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("botops tracked \(UInt64.random(in: 0...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let host = LocalHost()
        let setup = try await host.run("""
            mkdir -p \(shellQuote(root))/conf && cd \(shellQuote(root)) && git init -q . && printf 'S=1\\n' > .env \
              && git add .env && git -c user.name=t -c user.email=t@t commit -qm t && git rev-parse HEAD
            """)
        #expect(setup.succeeded, "\(setup.stderrText)")
        let envFile = spelling.replacing("ENV", with: ".env")
        let commands = DeployCommands(path: root, compose: ComposeInvocation(program: ["docker-compose"], envFile: envFile, file: "c.yml"),
                                      state: StateDirectory(path: "~/.botops"))
        let result = try await host.run(commands.trackedHostFiles(at: setup.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), envFile: envFile, timeout: .seconds(30)))
        #expect(result.succeeded, "\(result.shownOutput)")
        #expect(result.stdout == ".env\n", "\(envFile)")
    }
}

/// Gate's git read is preflight's: changes, branch and HEAD from a real repository (this
/// machine's shell), and a detached HEAD, as deploy reads them.
@Suite struct GitStateProbeTests {
    @Test func aRealCheckoutReadsItsChangesBranchAndHeadAsPreflightDoes() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("botops git state \(UInt64.random(in: 0...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let host = LocalHost()
        let setup = try await host.run("""
            mkdir -p \(shellQuote(root)) && cd \(shellQuote(root)) && git init -q -b main . && printf 'a\\n' > f \
              && git add f && git -c user.name=t -c user.email=t@t commit -qm t && printf 'b\\n' > f && git rev-parse HEAD
            """)
        #expect(setup.succeeded, "\(setup.stderrText)")
        let commands = DeployCommands(path: root, compose: ComposeInvocation(program: [], envFile: ".env", file: "c.yml"), state: StateDirectory(path: "~/.botops"))
        let probe = commands.gitStateProbe(timeout: .seconds(30))
        let reading = try await probe.run(on: host)
        try reading.requireGit(GitRead.preflight, path: root)
        #expect(reading.changed == [" M f"])
        #expect(reading.branch == "main")
        #expect(reading.head == setup.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))

        #expect(try await host.run("cd \(shellQuote(root)) && git checkout -q . && git checkout -q --detach").succeeded)
        let detached = try await probe.run(on: host)
        try detached.requireGit(GitRead.preflight, path: root)
        #expect(detached.changed.isEmpty && detached.branch == nil && detached.head == reading.head)

        let gone = commands.gitStateProbe(timeout: .seconds(30))
        try FileManager.default.removeItem(atPath: root)
        await #expect(throws: ProbeOutputError.self) { try await gone.run(on: host) }
    }
}
