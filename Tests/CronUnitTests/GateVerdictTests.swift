@testable import BotOpsKit
@testable import Checks
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

@Suite struct GateVerdictTests {
    func report(_ verdicts: [GateVerdict]) -> GateReport {
        GateReport(destination: "bot@host:22", service: "sighook", at: utc("2026-11-30T17:05"), verdicts: verdicts, checks: nil)
    }

    @Test func exitCodesRefusalThenUnreachableThenFailedChecks() {
        let go = [GateVerdict(.blackout, .pass, "clear"), GateVerdict(.hostReachable, .pass, "ok"), GateVerdict(.checks, .pass, "9 pass")]
        #expect(report(go).exitCode == .success)
        #expect(report(go + [GateVerdict(.checks, .fail, "cron-scheduled: missing")]).exitCode == .failed)
        #expect(report([GateVerdict(.hostReachable, .fail, "refused"), GateVerdict(.checks, .skip, "unreachable")]).exitCode == .unreachable)
        #expect(report([GateVerdict(.blackout, .fail, "inside"), GateVerdict(.hostReachable, .fail, "refused")]).exitCode == .refused)
        #expect(report([GateVerdict(.cleanCheckout, .fail, "dirty"), GateVerdict(.checks, .fail, "x")]).exitCode == .refused)
        #expect(report([GateVerdict(.deployLock, .fail, "held")]).exitCode == .refused)
    }

    /// Item 23: the gate judges the checks as deploy does. A check failing before the deploy is
    /// deploy's baseline, tolerated; only `--strict` (as `deploy --strict`) fails on it.
    @Test func checksAlreadyFailingAreToleratedUnlessStrict() {
        func result(_ id: CheckID, _ status: CheckStatus) -> CheckResult {
            CheckResult(id: id, title: id.rawValue, status: status, message: status == .fail ? "broken" : "ok", evidence: [], duration: .zero)
        }
        let report = VerifyReport(destination: "h", startedAt: Date(), duration: .zero,
                                  results: [result(.cronScheduled, .fail), result(.dbRunning, .pass)], connectionLost: nil)
        let lenient = Gate(config: BotOpsConfig(host: "h"), entries: [], service: nil, at: 0).checks(report)
        #expect(lenient.status == .pass)
        #expect(lenient.message.contains("1 already failing, which deploy tolerates"), "\(lenient.message)")
        let strict = Gate(config: BotOpsConfig(host: "h"), entries: [], service: nil, at: 0, strict: true).checks(report)
        #expect(strict.status == .fail)
        #expect(self.report([GateVerdict(.hostReachable, .pass, "ok"), strict]).exitCode == .failed)
    }

    /// Item 23: deploy refuses a checkout that is not on botops.yml's branch; so does the gate.
    @Test func aCheckoutOnAnotherBranchOrDetachedIsRefused() {
        var config = BotOpsConfig(host: "h")
        config.branch = "main"
        let gate = Gate(config: config, entries: [], service: nil, at: 0)
        #expect(gate.branch("main", head: "abc").status == .pass)
        let other = gate.branch("hotfix", head: "abc")
        #expect(other.status == .fail)
        #expect(other.message.contains("on branch hotfix, not main"))
        #expect(gate.branch(nil, head: "0123456789abcdef").message.contains("detached revision (0123456789ab)"))
        #expect(report([other]).exitCode == .refused)
    }

    /// The blackout gate with the clock injected: inside the window around Monday 09:00 Los
    /// Angeles time (winter and summer), and outside it.
    @Test func blackoutVerdictWithTheClockInjected() throws {
        let weekly = try entry(weeklyEntryText)
        func verdict(_ instant: String) -> GateVerdict {
            Gate(config: BotOpsConfig(host: "h"), entries: [weekly], service: nil, at: utc(instant)).blackout(hostZone: .utc)
        }
        #expect(verdict("2026-11-30T17:05").status == .fail)   // 09:05 PST
        #expect(verdict("2026-11-30T16:50").status == .fail)   // 08:50 PST
        #expect(verdict("2026-07-06T16:09").status == .fail)   // 09:09 PDT
        #expect(verdict("2026-11-30T17:05").message.contains("clear at 2026-11-30 09:10 America/Los_Angeles"))
        #expect(verdict("2026-11-30T16:45").status == .pass)   // 08:45 PST
        #expect(verdict("2026-07-06T17:05").status == .pass)   // 10:05 PDT: 17:05 UTC is only a winter window
        #expect(verdict("2026-12-01T17:05").status == .pass)   // Tuesday
        #expect(verdict("2026-11-30T16:45").message == "clear; next window: weekly-strategy-review fires at 2026-11-30 09:00 America/Los_Angeles")
    }

    /// The host cannot be reached: an entry without CRON_TZ fires in the host's unknown zone, so
    /// its window is named as not judged, never judged in UTC (which could refuse or pass wrongly).
    @Test func unreachableJudgesOnlyEntriesWithTheirOwnZone() throws {
        let hostTime = try entry("0 17 * * 1 /opt/bot/weekly_strategy_review.sh\n# botops: blackout 10m", name: "host-time")
        let gate = Gate(config: BotOpsConfig(host: "h"), entries: [hostTime, try entry(weeklyEntryText)], service: nil, at: utc("2026-11-30T17:05"))
        let unreachable = gate.blackout(hostZone: nil)
        #expect(unreachable.status == .fail, "the Los Angeles entry is still judged: 09:05 PST")
        let later = Gate(config: BotOpsConfig(host: "h"), entries: [hostTime], service: nil, at: utc("2026-11-30T17:05")).blackout(hostZone: nil)
        #expect(later.status == .pass, "17:05 in UTC would be inside host-time's window; the host's zone is unknown")
        #expect(later.message.contains("not judged: host-time"), "\(later.message)")
        #expect(Gate(config: BotOpsConfig(host: "h"), entries: [hostTime], service: nil, at: utc("2026-11-30T17:05")).blackout(hostZone: .utc).status == .fail)
    }

    /// Deploy refuses (exit 4) when the database is down in its baseline: the checks that need it
    /// would be skipped. The gate refuses it too, with or without --strict.
    @Test func aDatabaseDownIsRefusedAsDeployRefusesIt() {
        func result(_ id: CheckID, _ status: CheckStatus) -> CheckResult {
            CheckResult(id: id, title: id.rawValue, status: status, message: status == .fail ? "db is paused" : "skipped", evidence: [], duration: .zero)
        }
        let report = VerifyReport(destination: "h", startedAt: Date(), duration: .zero,
                                  results: [result(.dbRunning, .fail), result(.dbConnectivity, .skip)], connectionLost: nil)
        for strict in [false, true] {
            let verdict = Gate(config: BotOpsConfig(host: "h"), entries: [], service: nil, at: 0, strict: strict).checks(report)
            #expect(verdict.status == .fail)
            #expect(verdict.message.contains("deploy would refuse: the database is not running before the deploy"), "\(verdict.message)")
            #expect(self.report([GateVerdict(.hostReachable, .pass, "ok"), verdict]).exitCode == .refused)
        }
    }

    /// The connection lost during the checks: db-running fails with the transport's error, which
    /// is no database down. Deploy exits 3 before judging its baseline; so does the gate.
    @Test func aConnectionLostDuringTheChecksIsExit3NotADatabaseDown() {
        let lost = RemoteError.connectionLost(host: "h", detail: "socket closed", commands: ["docker inspect db"])
        let report = VerifyReport(destination: "h", startedAt: Date(), duration: .zero,
                                  results: [CheckResult(id: .dbRunning, title: "db-running", status: .fail, message: lost.description, evidence: [], duration: .zero)],
                                  connectionLost: lost)
        let verdict = Gate(config: BotOpsConfig(host: "h"), entries: [], service: nil, at: 0).checks(report)
        #expect(verdict.status == .skip, "\(verdict.message)")
        let verdicts = Gate.lostConnection([GateVerdict(.blackout, .pass, "clear"), GateVerdict(.hostReachable, .pass, "ok"), verdict])
        #expect(self.report(verdicts).exitCode == .unreachable)
        #expect(verdicts[1].message.contains("connection lost during the checks gate: connection lost to h"), "\(verdicts[1].message)")
    }

    @Test func formatsCarryEveryVerdict() throws {
        let verdicts = [GateVerdict(.blackout, .fail, "inside <window> & \"quoted\""), GateVerdict(.hostReachable, .pass, "ok"),
                        GateVerdict(.cleanCheckout, .pass, "clean"), GateVerdict(.deployLock, .pass, "free"), GateVerdict(.checks, .skip, "not run")]
        let report = report(verdicts)
        #expect(GateFormat.text.render(report).contains("FAIL  blackout        inside <window>"))
        #expect(GateFormat.text.render(report).hasSuffix("refused (exit 4)\n"))
        let json = try JSONSerialization.jsonObject(with: Data(GateFormat.json.render(report).utf8)) as? [String: Any]
        #expect(json?["exit_code"] as? Int == 4)
        #expect(json?["outcome"] as? String == "refused")
        #expect((json?["gates"] as? [[String: Any]])?.count == 5)  // as given

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("gate.xml").path
        try GateFormat.junit.render(report).write(toFile: file, atomically: true, encoding: .utf8)
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ChecksTests/Fixtures/junit.xsd").path
        let result = try runProgram(["xmllint", "--noout", "--schema", schema, file])
        #expect(result.status == 0, "\(result.stderr)")
    }
}

/// The example workflow: no `${{ … }}` expression (an input, a secret) is spliced into a `run:`
/// script, where a value such as `x"; curl … #` or a quote in a secret would become shell code.
@Suite struct ExampleWorkflowTests {
    @Test func noExpressionIsSplicedIntoARunScript() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/github-actions-deploy.yml")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var runIndent: Int?
        var spliced: [String] = []
        var runs = 0
        for line in lines {
            let indent = line.prefix(while: { $0 == " " }).count
            let text = line.dropFirst(indent)
            if let open = runIndent, text.isEmpty || indent > open {
                if text.contains("${{") { spliced.append(String(line)) }
                continue
            }
            runIndent = nil
            let body = text.hasPrefix("- ") ? text.dropFirst(2) : text
            if body.hasPrefix("run:") {
                runs += 1
                runIndent = indent
                if body.contains("${{") { spliced.append(String(line)) }
            }
        }
        #expect(runs >= 4)
        #expect(spliced.isEmpty, "spliced into run: \(spliced)")
        let text = lines.joined(separator: "\n")
        #expect(text.contains("SERVICE: ${{ inputs.service }}"))
        #expect(text.contains("--service \"$SERVICE\""))
    }
}
