@testable import BotOpsKit
import Testing

/// What botops trusts in releases.json: the image each release ran, whether it was verified, and
/// a file it cannot read.
@Suite struct ReleaseTrustTests {
    typealias Release = Releases.Release

    static func release(_ revision: String, id: String, verified: Bool = true, at time: Int) -> Release {
        Release(revision: revision, branch: "main", image: "app:botops-\(revision)", imageID: "sha256:\(id)", verified: verified ? nil : false, recordedAt: time)
    }

    @Test func previousIsJudgedFromTheRunningImageNotTheNewestRecord() {
        var releases = Releases()
        for (n, revision) in ["r1", "r2", "r3"].enumerated() {
            _ = releases.record(Self.release(revision, id: "id-\(revision)", at: n), service: "sighook", keep: 5)
        }
        // sighook was rolled back alone to r2: its previous is r1, not r2 (the newest record's predecessor).
        #expect(releases.previous(of: "sighook", runningImage: "sha256:id-r2", checkout: "r3", tagged: [:])?.revision == "r1")
        #expect(releases.previous(of: "sighook", runningImage: "sha256:id-r3", checkout: "r3", tagged: [:])?.revision == "r2")
        // An image never recorded: judged by the checkout.
        #expect(releases.previous(of: "sighook", runningImage: "sha256:other", checkout: "r3", tagged: [:])?.revision == "r2")
        // Older records without an image id are matched by what their tag names now.
        var legacy = Releases()
        _ = legacy.record(Release(revision: "r1", branch: "main", image: "app:botops-r1", recordedAt: 1), service: "sighook", keep: 5)
        _ = legacy.record(Release(revision: "r2", branch: "main", image: "app:botops-r2", recordedAt: 2), service: "sighook", keep: 5)
        #expect(legacy.previous(of: "sighook", runningImage: "sha256:x", checkout: "zz", tagged: ["app:botops-r2": "sha256:x"])?.revision == "r1")
    }

    @Test func anUnverifiedReleaseIsNeverPrevious() throws {
        var releases = Releases()
        _ = releases.record(Self.release("r1", id: "1", at: 1), service: "sighook", keep: 5)
        _ = releases.record(Self.release("r2", id: "2", verified: false, at: 2), service: "sighook", keep: 5)
        _ = releases.record(Self.release("r3", id: "3", at: 3), service: "sighook", keep: 5)
        #expect(releases.previous(of: "sighook", runningImage: "sha256:3", checkout: "r3", tagged: [:])?.revision == "r1")
        #expect(try Releases.parse(releases.json, file: "f").services["sighook"]?[1].isVerified == false)
        #expect(releases.json.contains("\"verified\":false") && releases.json.contains("\"image_id\":\"sha256:2\""))
    }

    @Test func everyNamedServiceIsJudgedAndTheyMustAgree() throws {
        var releases = Releases()
        for service in ["sighook", "webhook"] {
            _ = releases.record(Self.release("r1", id: "\(service)-1", at: 1), service: service, keep: 5)
            _ = releases.record(Self.release("r2", id: "\(service)-2", at: 2), service: service, keep: 5)
        }
        _ = releases.record(Self.release("r3", id: "sighook-3", at: 3), service: "sighook", keep: 5)
        // sighook runs r3, webhook still r2 (deployed alone): their previous releases differ.
        let running = ["sighook": "sha256:sighook-3", "webhook": "sha256:webhook-2"]
        #expect(throws: HostStateError.previousReleasesDiffer(services: ["sighook", "webhook"], revisions: ["r2", "r1"])) {
            try releases.previous(of: ["sighook", "webhook"], running: running, checkout: "r3", tagged: [:])
        }
        #expect(try releases.previous(of: ["webhook"], running: running, checkout: "r3", tagged: [:]).revision == "r1")
        // The first service alone used to decide for all.
        #expect(throws: HostStateError.noPreviousRelease(services: ["report-job"])) {
            try releases.previous(of: ["sighook", "report-job"], running: running, checkout: "r3", tagged: [:])
        }
    }

    @Test func aKeptTagNamingAnotherImageIsNeverMoved() {
        let base = Releases.keptTag(image: "bottrader/sighook:latest", revision: "0123456789abcdef")
        #expect(Releases.tagToKeep(image: "bottrader/sighook:latest", revision: "0123456789abcdef", imageID: "sha256:aaaa", taggedNow: nil) == base)
        #expect(Releases.tagToKeep(image: "bottrader/sighook:latest", revision: "0123456789abcdef", imageID: "sha256:aaaa", taggedNow: "sha256:aaaa") == base)
        #expect(Releases.tagToKeep(image: "bottrader/sighook:latest", revision: "0123456789abcdef", imageID: "sha256:bbbbbbbbbbbbbbbb", taggedNow: "sha256:aaaa")
            == base + "-bbbbbbbbbbbb")
    }

    @Test func recordingARevisionAgainReleasesItsOldTag() {
        var releases = Releases()
        _ = releases.record(Self.release("r1", id: "1", at: 1), service: "sighook", keep: 5)
        var rebuilt = Self.release("r1", id: "2", at: 2)
        rebuilt.image = "app:botops-r1-2"
        #expect(releases.record(rebuilt, service: "sighook", keep: 5) == ["app:botops-r1"])
    }

    @Test func anUnreadableRecordIsRefusedNamingTheFile() throws {
        #expect(try Releases.parse("{}", file: "f") == Releases())
        for text in ["", "{\"services\": {\"sighook\": [{\"rev", "cat: /home/bot/.botops/releases.json: Permission denied"] {
            #expect {
                try Releases.parse(text, file: "~/.botops/releases.json")
            } throws: { error in
                guard case let .releasesUnreadable(file, detail) = error as? HostStateError else { return false }
                return file == "~/.botops/releases.json" && !detail.contains("services")
                    && (error as? HostStateError)?.exitCode == .refused
                    && "\(error)".contains("will not replace it") && "\(error)".contains(".damaged")
            }
        }
    }
}

@Suite struct HistoryTableTests {
    @Test func historyPrintsTerminalSafeText() {
        var record = AuditRecord(action: "deploy", command: "botops deploy --service sighook\u{1b}]0;owned\u{07}", result: "rolled-back\u{1b}[2J", services: ["sighook"])
        record.failure = "checks: report said \u{1b}[31mred\u{1b}[0m\nsecond line\r"
        record.reason = "\u{202e}desrever"
        record.rollback = .init(result: "failed", to: "0123456789", steps: [], failure: "up: \u{1b}[1Ahidden")
        record.recordFailed = true
        let text = HistoryTable().render([record])
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D || $0.value == 0x202E })
        #expect(text.contains("checks: report said red second line"))
        #expect(text.contains("rolled-back"))
        #expect(text.contains("the release record could not be written"))
        // One line per record plus its detail lines: the failure's line break does not start a new one.
        #expect(text.split(separator: "\n").count == 6)
    }
}
