import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops status` on the real sandbox host: healthy, broken, and while a deploy holds the lock.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct StatusSandboxTests {
    static func randomRevision() -> String {
        (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }

    @Test func aHealthyHostShowsTheKeptReleaseByImageIDAndTheNewestVerifiedBackup() async throws {
        let revision = Self.randomRevision()
        let older = Self.randomRevision()
        let tag = "bottrader/sighook:botops-" + revision.prefix(12)
        try await HostScene.run({ scene in
            // sighook runs the image of a recorded release (its kept tag has the running image's
            // id); webhook's recorded release has no image left, so what it runs is unknown.
            try await scene.sh("docker tag \"$(docker inspect -f '{{.Image}}' sighook)\" \(shellQuote(tag))")
            let releases = """
                {"services":{"sighook":[{"image":"bottrader/sighook:botops-\(older.prefix(12))","recorded_at":1,"revision":"\(older)"},\
                {"image":"\(tag)","recorded_at":2,"revision":"\(revision)"}],\
                "webhook":[{"image":"bottrader/webhook:botops-\(older.prefix(12))","recorded_at":1,"revision":"\(older)"}]}}
                """
            let record = { (id: String, time: String, status: String) in
                #"{"version":1,"id":"\#(id)","time":"\#(time)","label":null,"database":"bot_trader_db","server_version":"15","size":1234,"sha256":"x","toc_digest":"y","status":"\#(status)","status_reason":null,"keep":false,"pushed":null,"tables":[],"sequences":[]}"#
            }
            // The records sit in botops.yml's backup.dir, not state_dir/backups.
            try scene.appendToConfig("backup:\n  dir: \(scene.stateDirectory)/elsewhere\n")
            try await scene.sh("""
                mkdir -p \(scene.stateFile("elsewhere")) && printf '%s\\n' \(shellQuote(releases)) > \(scene.stateFile("releases.json"))
                printf '%s\\n' \(shellQuote(record("20261101T000000Z", "2026-11-01T00:00:00Z", "verified"))) > \(scene.stateFile("elsewhere/20261101T000000Z.json"))
                printf '%s\\n' \(shellQuote(record("20261120T000000Z-weekly", "2026-11-20T00:00:00Z", "verified"))) > \(scene.stateFile("elsewhere/20261120T000000Z-weekly.json"))
                printf '%s\\n' \(shellQuote(record("20261201T000000Z", "2026-12-01T00:00:00Z", "unverified"))) > \(scene.stateFile("elsewhere/20261201T000000Z.json"))
                printf 'half a rec' > \(scene.stateFile("elsewhere/20261202T000000Z.json"))
                head -c 1234 /dev/zero > \(scene.stateFile("elsewhere/20261101T000000Z.dump")) && head -c 1234 /dev/zero > \(scene.stateFile("elsewhere/20261120T000000Z-weekly.dump"))
                printf '%s\\n' \(shellQuote(record("20261125T000000Z", "2026-11-25T00:00:00Z", "verified"))) > \(scene.stateFile("elsewhere/20261125T000000Z.json"))
                """)
            let head = try await scene.sh("git -C \(shellQuote(scene.sandbox.app)) rev-parse HEAD")

            let status = try await scene.json(["status", "--crontab-dir", HostScene.repositoryRoot.appendingPathComponent("crontab.d").path])
            let services = try #require(status["services"] as? [[String: Any]])
            let sighook = try #require(services.first { $0["service"] as? String == "sighook" })
            #expect(sighook["revision"] as? String == revision)
            #expect(sighook["last_verified"] as? Bool == true)
            #expect(sighook["state"] as? String == "running")
            #expect(sighook["health"] as? String == "healthy")
            #expect(sighook["restarts"] as? Int == 0)
            #expect((sighook["uptime_seconds"] as? Int).map { $0 >= 0 } == true)
            let webhook = try #require(services.first { $0["service"] as? String == "webhook" })
            #expect(webhook["revision"] == nil && webhook["last_verified"] as? Bool == false)
            let database = try #require(status["database"] as? [String: Any])
            #expect(database["state"] as? String == "running")
            let checkout = try #require(status["checkout"] as? [String: Any])
            #expect(checkout["branch"] as? String == "main" && checkout["revision"] as? String == head && checkout["clean"] as? Bool == true)
            #expect((status["lock"] as? [String: Any])?["state"] as? String == "free")
            #expect(status["last_deploy"] is NSNull, "a fresh state directory has no audit")
            let backup = try #require(status["newest_verified_backup"] as? [String: Any])
            #expect(backup["id"] as? String == "20261120T000000Z-weekly", "the newest *verified* record, not the newer unverified one nor the newer one whose dump is gone")
            let disks = try #require(status["disk"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            #expect(disks == ["docker-root", "checkout", "state-dir"])
            #expect((status["botops"] as? [String: Any])?["host"] as? String == "not installed")
            let cron = try #require(status["cron"] as? [[String: Any]])
            let weekly = try #require(cron.first { $0["name"] as? String == "weekly-strategy-review" })
            #expect((weekly["next"] as? [String: Any])?["local"] as? String != nil && (weekly["next"] as? [String: Any])?["utc"] as? String != nil)
            #expect(weekly["zone"] as? String == "America/Los_Angeles")
            #expect(weekly["evidence"] as? String != nil, "the entry expects a report: the last fire's evidence is judged")
            #expect((status["problems"] as? [Any])?.isEmpty == true, "\(status["problems"] ?? "")")

            let text = try await scene.botops(["status"])
            #expect(text.termination == .exited(0))
            #expect(text.stdoutText.contains("sighook     running (healthy)"), "\(text.stdoutText)")
            #expect(text.stdoutText.contains("\(revision.prefix(12)) (last verified)"), "\(text.stdoutText)")
            #expect(text.stdoutText.contains("webhook     running (healthy)") && text.stdoutText.contains("revision unknown"))
            #expect(text.stdoutText.contains("checkout   main at \(head.prefix(12)), clean"))
            #expect(text.stdoutText.contains("backup     20261120T000000Z-weekly, verified"))
            #expect(text.stdoutText.contains("host not installed"))
            #expect(!text.stdoutText.contains("\u{1B}["), "no colour when stdout is not a terminal")

            // --watch --format json: one object per line, until interrupted.
            let watch = try await LocalHost().run(shellCommand(["timeout", "-s", "INT", "4", BuiltBinary.botops.path, "status", "--config", scene.config,
                                                                "--watch", "1", "--format", "json"]), timeout: .seconds(60))
            let lines = watch.stdoutText.split(separator: "\n")
            #expect(lines.count >= 2, "\(watch.stdoutText)\n\(watch.stderrText)")
            for line in lines {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not one object per line: \(line)")
            }
        }, cleanup: { scene in
            try await scene.sh("docker image rm \(shellQuote(tag)) >/dev/null")
        })
    }

    @Test func aBrokenHostIsReadAndShownWithExitZero() async throws {
        let app = shellQuote(try Sandbox.require().app)
        try await HostScene.run({ scene in
            // A releases.json cat cannot read (a directory: root, as the tests may run, reads any file).
            try await scene.sh("mkdir -p \(scene.stateFile("releases.json"))")
            try await scene.sh("docker stop webhook >/dev/null && docker pause db >/dev/null && cd \(app) && printf 'edited\\n' >> VERSION")
            let status = try await scene.json(["status"])
            let services = try #require(status["services"] as? [[String: Any]])
            #expect(services.first { $0["service"] as? String == "webhook" }?["state"] as? String == "exited")
            #expect((status["database"] as? [String: Any])?["state"] as? String == "paused")
            let checkout = try #require(status["checkout"] as? [String: Any])
            #expect(checkout["clean"] as? Bool == false)
            #expect((checkout["changed"] as? [String])?.contains { $0.hasSuffix("VERSION") } == true)
            #expect(status["newest_verified_backup"] is NSNull)
            let releases = try #require(status["releases_problem"] as? String, "an unreadable releases.json is said, not shown as no releases")
            #expect(releases.hasPrefix("cannot read \(scene.stateDirectory)/releases.json: cat: "), "\(releases)")

            let text = try await scene.botops(["status"])
            #expect(text.termination == .exited(0), "status reads a broken host; it does not judge it")
            #expect(text.stdoutText.contains("webhook     exited"), "\(text.stdoutText)")
            #expect(text.stdoutText.contains("db          paused"), "\(text.stdoutText)")
            #expect(text.stdoutText.contains("changed: M VERSION") || text.stdoutText.contains("changed:  M VERSION"), "\(text.stdoutText)")
            #expect(text.stdoutText.contains("backup     none verified"))
            #expect(text.stdoutText.contains("releases   unreadable: cannot read \(scene.stateDirectory)/releases.json: cat: "), "\(text.stdoutText)")
        }, cleanup: { scene in
            try await scene.sh("""
                docker unpause db >/dev/null 2>&1; docker start webhook >/dev/null; cd \(app) && git checkout -q -- VERSION
                for i in $(seq 1 120); do [ "$(docker inspect -f '{{.State.Health.Status}}' webhook)" = healthy ] && [ "$(docker inspect -f '{{.State.Health.Status}}' db)" = healthy ] && exit 0; sleep 0.5; done; exit 1
                """)
        })
    }

    @Test func whileADeployHoldsTheLockStatusNamesTheHolderAndItsStep() async throws {
        try await HostScene.run { scene in
            let lock = DeployLock(state: StateDirectory(path: scene.stateDirectory), staleAfter: .seconds(7200), runner: scene.host)
            let holder = LockHolder(user: "alice", machine: "laptop", pid: 4242, command: "botops deploy --service sighook",
                                    step: "lock", startedAt: Int(Date().timeIntervalSince1970))
            let held = try await lock.acquire(as: holder, wait: nil)
            do {
                held.record(step: "build", revision: "0123456789abcdef0123")
                await held.recorded()
                let status = try await scene.json(["status"])
                let shown = try #require(status["lock"] as? [String: Any])
                #expect(shown["state"] as? String == "held")
                let recorded = try #require(shown["holder"] as? [String: Any])
                #expect(recorded["step"] as? String == "build" && recorded["command"] as? String == "botops deploy --service sighook")
                let text = try await scene.botops(["status"])
                #expect(text.stdoutText.contains("lock       held: alice@laptop (pid 4242): botops deploy --service sighook, step build at 0123456789ab"), "\(text.stdoutText)")
            }
            await held.release()
        }
    }

    @Test func anUnreachableHostExitsThreeWithNothingOnStdout() async throws {
        let result = try await BuiltBinary.botops.run(["status", "--host", "bot@127.0.0.1:\(closedLoopbackPort())", "--format", "json"])
        #expect(result.termination == .exited(3), "\(result.stderrText)")
        #expect(result.stdoutText.isEmpty)
    }
}
