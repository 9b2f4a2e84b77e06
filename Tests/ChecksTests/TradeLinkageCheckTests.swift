@testable import Checks
import Testing

@Suite struct TradeLinkageCheckTests {
    @Test func passesWithCountAndRate() {
        let verdict = TradeLinkageCheck().evaluate(Fixture.database(), settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.evidence.contains(Evidence("linkage_rate", "50.0% (30/60 filled)")))
    }

    @Test func noLinksInTheWindowFails() {
        let verdict = TradeLinkageCheck().evaluate(Fixture.database(["links": .success([["0"]])]), settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("0 trades linked in the last 1 day, need 1"))
    }

    @Test func missingTradeTableCostsOnlyTheRate() {
        let verdict = TradeLinkageCheck().evaluate(Fixture.database(["linkage-rate": .failure(Fixture.missingTable)]), settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.message.contains("unavailable"))
    }
}
