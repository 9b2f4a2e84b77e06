@testable import BotOpsKit
import Foundation
import Testing

/// status says when the host's botops differs from this one in words, not only in colour (a
/// pipe, a CI log, `--format json` have none).
@Suite struct StatusVersionsTests {
    func status(local: String, host: HostStatus.HostCopy, unlimited: Bool = false) -> HostStatus {
        HostStatus(destination: "bot@h:22", readAt: 0, durationMS: 5, services: [],
                   database: HostStatus.Container(service: "db", state: "running", lastVerified: false),
                   checkout: HostStatus.Checkout(present: true, clean: true, changed: []),
                   lock: HostStatus.Lock(state: "free"), lastDeploy: nil, cron: [], cronProblem: nil, newestReport: nil,
                   newestVerifiedBackup: nil, disk: [], botops: HostStatus.Versions(local: local, host: host, hostUnlimited: unlimited), problems: [])
    }

    func botops(_ status: HostStatus) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        return try #require(object["botops"] as? [String: Any])
    }

    @Test func aHostCopyThatDiffersIsSaidSoInTextAndJSON() throws {
        let differs = status(local: "0.16.0 (d419ea56ea8a)", host: .runs("0.15.0 (0123456789ab)"))
        #expect(StatusText(colour: false).render(differs).contains("botops     here 0.16.0 (d419ea56ea8a), host 0.15.0 (0123456789ab), differs: botops install-host"))
        #expect(try botops(differs)["same"] as? Bool == false)

        let same = status(local: "0.16.0 (d419ea56ea8a)", host: .runs("0.16.0 (d419ea56ea8a)"))
        #expect(!StatusText(colour: false).render(same).contains("differs"))
        #expect(try botops(same)["same"] as? Bool == true)

        let none = status(local: "0.16.0 (d419ea56ea8a)", host: .notInstalled)
        #expect(try botops(none)["same"] is NSNull)
    }
}
