@testable import BotOpsKit
import Testing

@Suite struct HealthTrackerTests {
    typealias Observation = HealthTracker.Observation

    func running(_ id: String = "c1", health: String = "healthy", restarts: Int = 0) -> Observation {
        Observation(id: id, status: "running", restarting: false, health: health, restarts: restarts)
    }

    @Test func healthyOnlyAfterStayingHealthyForTheStableWindow() {
        var tracker = HealthTracker(stableFor: .seconds(10))
        #expect(tracker.observe(["sighook": running(health: "starting")], elapsed: .seconds(0)) == .waiting("sighook starting"))
        #expect(tracker.observe(["sighook": running()], elapsed: .seconds(2)) != .healthy)
        #expect(tracker.observe(["sighook": running()], elapsed: .seconds(11)) != .healthy)
        #expect(tracker.observe(["sighook": running()], elapsed: .seconds(12)) == .healthy)
        #expect(tracker.firstReady["sighook"] == .seconds(2))
    }

    @Test func aRestartStartsTheWindowAgainAndACrashLoopFails() {
        var tracker = HealthTracker(stableFor: .seconds(5))
        _ = tracker.observe(["s": running()], elapsed: .seconds(0))
        _ = tracker.observe(["s": running(restarts: 1)], elapsed: .seconds(4))
        #expect(tracker.observe(["s": running(restarts: 1)], elapsed: .seconds(6)) != .healthy)
        #expect(tracker.observe(["s": running(restarts: 1)], elapsed: .seconds(9)) == .healthy)

        var looping = HealthTracker(stableFor: .seconds(5))
        _ = looping.observe(["s": Observation(id: "c", status: "restarting", restarting: true, health: "", restarts: 0)], elapsed: .zero)
        guard case .failed(let service, let reason) = looping.observe(["s": Observation(id: "c", status: "restarting", restarting: true, health: "", restarts: 3)], elapsed: .seconds(1)) else {
            Issue.record("a crash loop must fail")
            return
        }
        #expect(service == "s")
        #expect(reason.contains("exits at start"))
    }

    @Test func withoutAHealthcheckRunningIsEnoughAndExitedOrMissingFails() {
        var tracker = HealthTracker(stableFor: .zero)
        #expect(tracker.observe(["s": running(health: "")], elapsed: .zero) == .healthy)
        var exited = HealthTracker(stableFor: .zero)
        #expect(exited.observe(["s": Observation(id: "c", status: "exited", restarting: false, health: "", restarts: 0)], elapsed: .zero)
                == .failed(service: "s", reason: "exited right after starting"))
        var missing = HealthTracker(stableFor: .zero)
        let none: [String: Observation?] = ["s": nil as Observation?]
        #expect(missing.observe(none, elapsed: .zero) == .failed(service: "s", reason: "has no container"))
        var unhealthy = HealthTracker(stableFor: .zero)
        #expect(unhealthy.observe(["s": running(health: "unhealthy")], elapsed: .zero) == .failed(service: "s", reason: "its healthcheck reports unhealthy"))
    }

    @Test func observationsParseFromInspectOutput() {
        #expect(Observation.parse("abc|running|false|healthy|2|2026-11-22T19:31:44Z") == Observation(id: "abc", status: "running", restarting: false, health: "healthy", restarts: 2))
        #expect(Observation.parse("abc|running|false||x|t") == nil)
        #expect(Observation.parse("") == nil)
    }
}

@Suite struct ReleasesTests {
    @Test func keptTagsUseTheImagesRepository() {
        #expect(Releases.keptTag(image: "bottrader/sighook:latest", revision: "0123456789abcdef0123") == "bottrader/sighook:botops-0123456789ab")
        #expect(Releases.keptTag(image: "registry:5000/team/app", revision: "abcdef0123456789") == "registry:5000/team/app:botops-abcdef012345")
        #expect(Releases.keptTag(image: "app@sha256:ffff", revision: "abcdef0123456789") == "app:botops-abcdef012345")
    }

    @Test func onlyTheLastKeepGoodReleasesStayAndTheDroppedTagsAreReturned() throws {
        var releases = Releases()
        var dropped: [String] = []
        for n in 1...7 {
            dropped += releases.record(.init(revision: "rev\(n)", branch: "main", image: "app:botops-rev\(n)", recordedAt: n), service: "sighook", keep: 5)
        }
        #expect(releases.services["sighook"]?.map(\.revision) == ["rev3", "rev4", "rev5", "rev6", "rev7"])
        #expect(dropped == ["app:botops-rev1", "app:botops-rev2"])
        #expect(releases.previous(of: "sighook", runningImage: nil, checkout: "rev7", tagged: [:])?.revision == "rev6")
        // Recording a revision again moves it to the front instead of taking two slots.
        _ = releases.record(.init(revision: "rev4", branch: "main", image: "app:botops-rev4", recordedAt: 8), service: "sighook", keep: 5)
        #expect(releases.services["sighook"]?.map(\.revision) == ["rev3", "rev5", "rev6", "rev7", "rev4"])
        #expect(try Releases.parse(releases.json, file: "releases.json") == releases)
    }
}

@Suite struct ComposeProjectTests {
    static let config = """
        services:
          db:
            container_name: db
            image: postgres:15
            environment: {POSTGRES_PASSWORD: secret}
            volumes:
            - pg_data:/var/lib/postgresql/data:rw
            - /opt/bot/db:/docker-entrypoint:ro
          sighook:
            image: bottrader/sighook:latest
            stop_grace_period: 1m30s
            healthcheck: {test: [CMD, "true"]}
          webhook:
            image: bottrader/webhook:latest
            volumes:
            - {type: volume, source: cache, target: /cache}
        volumes:
          pg_data: {external: true, name: bottrader-aws_pg_data}
          cache: {}
        """

    @Test func servicesGraceAndTheDatabaseVolume() throws {
        let project = try ComposeProject.parse(Self.config)
        #expect(project.serviceNames == ["db", "sighook", "webhook"])
        #expect(project.services["sighook"]?.stopGracePeriod == .seconds(90))
        #expect(project.services["webhook"]?.stopGracePeriod == .seconds(10))
        #expect(project.services["sighook"]?.hasHealthcheck == true)
        #expect(project.services["webhook"]?.mounts == ["/cache": .volume("cache")])
        #expect(project.volumes["pg_data"] == .init(name: "bottrader-aws_pg_data", external: true))
        #expect(project.databaseService(container: "db")?.mounts["/var/lib/postgresql/data"] == .volume("pg_data"))
        #expect(throws: DeployError.self) { try ComposeProject.parse("just text") }
    }

    @Test func goDurations() {
        #expect(parseGoDuration("10s") == .seconds(10))
        #expect(parseGoDuration("1m30s") == .seconds(90))
        #expect(parseGoDuration("1.5s") == .milliseconds(1500))
        #expect(parseGoDuration("500ms") == .milliseconds(500))
        #expect(parseGoDuration("10") == nil)
        #expect(parseGoDuration("s") == nil)
        #expect(parseGoDuration("99999999999999999999h") == nil)
    }
}

@Suite struct DeploySettingsTests {
    @Test func readsFromBotopsYml() throws {
        let config = try BotOpsConfig.parse("""
            host: h
            state_dir: /var/lib/botops
            lock: {stale_after: 30m}
            releases: {keep: 3}
            deploy: {min_free_disk: 500MB}
            playbooks: /etc/botops/playbooks
            """)
        #expect(config.deploy.stateDirectory.path == "/var/lib/botops")
        #expect(config.deploy.lockStaleAfter == .seconds(1800))
        #expect(config.deploy.keepReleases == 3)
        #expect(config.deploy.minFreeDiskBytes == 500 << 20)
        #expect(config.deploy.playbooks == "/etc/botops/playbooks")
        #expect(try BotOpsConfig.parse("host: h").deploy == DeploySettings())
    }

    @Test func badValuesNameTheirKey() {
        for (text, key) in [("state_dir: relative", "state_dir"), ("state_dir: ~/../x", "state_dir"), ("releases: {keep: 0}", "releases.keep"),
                            ("deploy: {min_free_disk: lots}", "deploy.min_free_disk"), ("lock: {stale: 1h}", "lock.stale")] {
            let error = #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\n" + text) }
            #expect(error?.key == key, "\(text)")
        }
    }

    @Test func stateDirectoryUnderHomeStaysExpandable() {
        #expect(StateDirectory(path: "~/.botops").file("audit.jsonl").text == "\"$HOME\"/.botops/audit.jsonl")
        #expect(StateDirectory(path: "/srv/bot ops").file("lock").text == "'/srv/bot ops/lock'")
    }
}

/// The refusal every lock taker gets while a changing command of an earlier run still holds the
/// step lock: the advice is not "then deploy", and --lock-wait is not only deploy's and rollback's
/// (cron, backup, restore and install-host take it too).
struct StepStillRunningAdviceTests {
    @Test func theAdviceFitsACrontabChangeToo() {
        let text = HostStateError.stepStillRunning("botops cron: the crontab write").description
        #expect(text.contains("then run the command again"), "\(text)")
        #expect(!text.contains("then deploy;"), "\(text)")
        #expect(text.contains("every command that takes the deploy lock waits with --lock-wait 10m"), "\(text)")
    }
}
