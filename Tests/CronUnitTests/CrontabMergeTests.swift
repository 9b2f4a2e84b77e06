@testable import Cron
import PropertyBased
import Testing

@Suite struct CrontabMergeTests {
    static let handInstalled = "0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1"
    static let userCrontab = """
        # m h  dom mon dow   command
        MAILTO=ops@example.com
        SHELL=/bin/bash

        \(handInstalled)
        */5 * * * * /usr/local/bin/heartbeat   # the user's own job
        #0 3 * * * /opt/bot/old_cleanup.sh

        """

    func plan(_ crontab: String, _ entries: [CronEntry], host: CronHostTime = debianHost) throws -> CronPlan {
        try ManagedCrontab(Crontab(text: crontab)).plan(installing: entries, host: host, now: renderNow)
    }

    func unmanaged(_ crontab: Crontab) throws -> [[UInt8]] {
        try ManagedCrontab(crontab).unmanagedLines.map(\.bytes)
    }

    @Test func adoptsTheHandInstalledLineInPlaceAndKeepsEverythingElse() throws {
        let weekly = try entry(weeklyEntryText)
        let result = try plan(Self.userCrontab, [weekly])
        #expect(result.changes == [.init(name: "weekly-strategy-review", change: .adopted(line: 5, text: Self.handInstalled),
                                         note: result.changes.first?.note)])
        let lines = result.proposed.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines[0..<4]) == ["# m h  dom mon dow   command", "MAILTO=ops@example.com", "SHELL=/bin/bash", ""])
        #expect(lines[4].hasPrefix("# BEGIN botops weekly-strategy-review "))
        #expect(lines[6].hasPrefix(#"0 16,17 * * * case $(TZ=America/Los_Angeles date"#))
        #expect(lines[7] == "# END botops weekly-strategy-review")
        #expect(Array(lines[8...]) == ["*/5 * * * * /usr/local/bin/heartbeat   # the user's own job", "#0 3 * * * /opt/bot/old_cleanup.sh", ""])
        // Not duplicated: the review runs from exactly one line.
        #expect(lines.filter { $0.contains("weekly_strategy_review.sh") }.count == 1)
        // Everything that was not the adopted line is byte-identical, in order.
        var expected = try unmanaged(Crontab(text: Self.userCrontab))
        expected.remove(at: 4)
        #expect(try unmanaged(result.proposed) == expected)
    }

    /// Whitespace aside, the hand line is the entry's command: adopted, not doubled.
    @Test func adoptsTheEntrysCommandWrittenWithOtherSpacing() throws {
        let crontab = "0 9 * * 1   /opt/bot/weekly_strategy_review.sh  >>/opt/bot/logs/weekly_review_cron.log   2>&1\n"
        let result = try plan(crontab, [try entry(weeklyEntryText)])
        #expect(result.changes.map(\.change) == [.adopted(line: 1, text: String(crontab.dropLast()))])
        #expect(result.proposed.text.components(separatedBy: "weekly_strategy_review.sh").count == 2)
    }

    /// Item 14: `--midday >> logs/midday.log` is another job of the same script. It was adopted
    /// (argument and redirect gone); now install refuses, naming the entry and the line.
    @Test func aLineRunningTheProgramWithOtherArgumentsIsRefusedNotAdopted() throws {
        let report = try entry("0 */6 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")
        let midday = "0 12 * * * /opt/bot/scripts/run_daily_report.sh --midday >> logs/midday.log"
        #expect(throws: AdoptionError(entry: "crontab.d/report.cron", entryCommand: "/opt/bot/scripts/run_daily_report.sh",
                                      lines: [(1, midday)])) { try plan(midday + "\n", [report]) }
        do {
            _ = try plan(midday + "\n", [report])
        } catch let error as AdoptionError {
            #expect(error.description.contains("/opt/bot/scripts/run_daily_report.sh"))
            #expect(error.description.contains("line 1: \(midday)"))
        }
    }

    /// Item 15: `bash SCRIPT` runs the script (verify's cron-scheduled passes it), so install sees it
    /// too: a different command than the entry's, refused rather than appended a second time.
    @Test func aShellRunningTheScriptIsSeenByInstall() throws {
        let byHand = "0 9 * * 1 bash /opt/bot/weekly_strategy_review.sh"
        #expect(throws: AdoptionError.self) { try plan(byHand + "\n", [try entry(weeklyEntryText)]) }
        #expect(try ManagedCrontab(Crontab(text: byHand + "\n")).lookalikes(of: [try entry(weeklyEntryText)]).map(\.line) == [1])
    }

    @Test func secondInstallIsANoOp() throws {
        let entries = [try entry(weeklyEntryText), try entry("0 */6 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")]
        let first = try plan(Self.userCrontab, entries)
        #expect(!first.isNoOp)
        let second = try plan(first.proposed.text, entries)
        #expect(second.isNoOp)
        #expect(second.proposed == first.proposed)
        #expect(second.changes.map(\.change) == [.unchanged, .unchanged])
        #expect(second.diff() == "")
    }

    @Test func editingOneEntryChangesOnlyItsBlock() throws {
        let report = try entry("0 */6 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")
        let weekly = try entry(weeklyEntryText)
        let installed = try plan(Self.userCrontab, [weekly, report]).proposed
        // Rollback plan B: the report back to daily.
        let daily = try entry("0 9 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")
        let edited = try plan(installed.text, [weekly, daily])
        #expect(edited.changes.map(\.change) == [.unchanged, .updated])
        let diff = edited.diff()
        #expect(diff.contains("-0 */6 * * * /opt/bot/scripts/run_daily_report.sh\n+0 9 * * * /opt/bot/scripts/run_daily_report.sh\n"))
        #expect(diff.components(separatedBy: "\n").filter { $0.hasPrefix("+") || $0.hasPrefix("-") }.count == 4)  // two headers, one line each way
        #expect(try unmanaged(edited.proposed) == (try unmanaged(installed)))
    }

    @Test func newEntriesAreAppendedAndStaleBlocksRemoved() throws {
        let report = try entry("0 */6 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")
        let installed = try plan("MAILTO=ops\n", [report]).proposed
        #expect(installed.text.hasPrefix("MAILTO=ops\n# BEGIN botops report "))
        #expect(installed.text.hasSuffix("0 */6 * * * /opt/bot/scripts/run_daily_report.sh\n# END botops report\n"))
        let removed = try plan(installed.text, [try entry(weeklyEntryText)])
        #expect(removed.changes.map(\.change) == [.removed, .added])
        #expect(!removed.proposed.text.contains("run_daily_report"))
        #expect(try ManagedCrontab(installed).removing("report") == Crontab(text: "MAILTO=ops\n"))
        #expect(try ManagedCrontab(installed).removing("nothing") == nil)
    }

    @Test func installsIntoAnEmptyCrontab() throws {
        let result = try plan("", [try entry(weeklyEntryText)])
        #expect(result.current == .empty)
        #expect(result.proposed.text.hasPrefix("# BEGIN botops weekly-strategy-review"))
        #expect(result.proposed.text.hasSuffix("# END botops weekly-strategy-review\n"))
    }

    @Test func cronTZBlocksRestoreTheZoneInForceBefore() throws {
        let crontab = "CRON_TZ=Europe/Berlin\n0 7 * * * /usr/bin/berlin-job\n"
        let result = try plan(crontab, [try entry(weeklyEntryText)], host: cronieHost)
        #expect(result.proposed.text.hasSuffix("CRON_TZ=America/Los_Angeles\n0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1\nCRON_TZ=Europe/Berlin\n# END botops weekly-strategy-review\n"))
    }

    @Test func otherLinesOfTheProgramAreAnErrorNotAGuess() throws {
        let crontab = "0 9 * * 1 /opt/bot/weekly_strategy_review.sh\n0 10 * * 1 /opt/bot/weekly_strategy_review.sh --again\n"
        #expect(throws: AdoptionError(entry: "crontab.d/weekly-strategy-review.cron", entryCommand: try entry(weeklyEntryText).command,
                                      lines: [(1, "0 9 * * 1 /opt/bot/weekly_strategy_review.sh"), (2, "0 10 * * 1 /opt/bot/weekly_strategy_review.sh --again")])) {
            try plan(crontab, [try entry(weeklyEntryText)])
        }
        // An exact copy beside another way of running the program is still refused: the other one would run too.
        let exact = "\(Self.handInstalled)\n0 10 * * 1 /opt/bot/weekly_strategy_review.sh --again\n"
        #expect(throws: AdoptionError.self) { try plan(exact, [try entry(weeklyEntryText)]) }
        // Two exact copies: botops does not guess which one to adopt.
        #expect(throws: AdoptionError.self) { try plan("\(Self.handInstalled)\n\(Self.handInstalled)\n", [try entry(weeklyEntryText)]) }
    }

    @Test func onlyAnAbsoluteProgramPathAdoptsByProgram() throws {
        let verify = try entry("20 9 * * 1 cd \"$HOME/botops\" && /usr/local/bin/botops verify --local", name: "weekly-verify")
        let crontab = "0 3 * * * cd /tmp && ./cleanup.sh\n"
        let result = try plan(crontab, [verify])
        #expect(result.changes.map(\.change) == [.added])
        #expect(result.proposed.text.hasPrefix(crontab))
        #expect(try ManagedCrontab(Crontab(text: crontab)).lookalikes(of: [verify]).isEmpty)
        // The same command written by hand is still adopted.
        let byHand = "20 9 * * 1 cd \"$HOME/botops\" && /usr/local/bin/botops verify --local\n"
        #expect(try plan(byHand, [verify]).changes.map(\.change) == [.adopted(line: 1, text: String(byHand.dropLast()))])
    }

    @Test func brokenMarkersAbort() {
        #expect(throws: CrontabError.self) { try ManagedCrontab(Crontab(text: "# BEGIN botops a (x)\n* * * * * y\n")) }
        #expect(throws: CrontabError.self) { try ManagedCrontab(Crontab(text: "# END botops a\n")) }
        #expect(throws: CrontabError.self) { try ManagedCrontab(Crontab(text: "# BEGIN botops a\n# END botops a\n# BEGIN botops a\n# END botops a\n")) }
        #expect(throws: CrontabError.self) { try ManagedCrontab(Crontab(text: "# BEGIN botops a\n# BEGIN botops b\n# END botops b\n")) }
    }

    @Test func lookalikesIncludeCommentedOutLines() throws {
        let crontab = try ManagedCrontab(Crontab(text: "#0 9 * * 1 /opt/bot/weekly_strategy_review.sh\n0 1 * * * /other\n"))
        let found = crontab.lookalikes(of: [try entry(weeklyEntryText)])
        #expect(found.map(\.line) == [1])
        #expect(found.first?.entry == "weekly-strategy-review")
    }

    @Test func bytesThatAreNotUTF8SurviveByteForByte() throws {
        var bytes = Array("# caf".utf8) + [0xE9] + Array(" (latin-1)\n".utf8)
        bytes += Array("0 1 * * * /usr/bin/x \u{25}stdin\n".utf8)
        let result = try ManagedCrontab(Crontab(bytes: bytes)).plan(installing: [try entry(weeklyEntryText)], host: debianHost, now: renderNow)
        #expect(Array(result.proposed.bytes.prefix(bytes.count)) == bytes)
    }

    /// Whatever the crontab holds, the lines botops does not own come back byte for byte, and a
    /// second install changes nothing.
    @Test func unmanagedLinesSurviveAnyCrontab() async throws {
        let weekly = try entry(weeklyEntryText)
        let lines = oneOf(["# comment", "MAILTO=x", "CRON_TZ=Europe/Berlin", "", "   ", "\t# indented",
                                             "*/5 * * * * /usr/bin/heartbeat", "@reboot /usr/bin/boot", "garbage line",
                                             "0 0 * * * echo 100\\% done", "#0 9 * * 1 /opt/bot/weekly_strategy_review.sh",
                                             "0 9 * * 1 /opt/bot/weekly_strategy_review.sh", "é\u{1}", "# END of the user's part"])
        await propertyCheck(count: 500, input: lines.array(of: 0...12), Gen.bool) { crontabLines, honours in
            let host = CronHostTime(zone: .utc, honoursCronTZ: honours)
            let text = crontabLines.map { $0 + "\n" }.joined()
            guard let first = try? plan(text, [weekly], host: host) else {
                // Only a line running the entry's program differently may refuse.
                #expect(crontabLines.contains("0 9 * * 1 /opt/bot/weekly_strategy_review.sh"))
                return
            }
            var expected = (try? unmanaged(Crontab(text: text))) ?? []
            if case .adopted(let line, _) = first.changes.first?.change { expected.remove(at: line - 1) }
            #expect((try? unmanaged(first.proposed)) == expected)
            #expect((try? plan(first.proposed.text, [weekly], host: host))?.isNoOp == true)
        }
    }
}
