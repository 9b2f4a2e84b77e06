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

extension TradeLinkageCheckTests {
    func settings(minimumRate: Double?) -> CheckSettings {
        var settings = Fixture.settings
        settings.minLinkageRate = minimumRate
        return settings
    }

    @Test func rateBelowTheConfiguredMinimumWarnsNotFails() {
        let verdict = TradeLinkageCheck().evaluate(Fixture.database(), settings: settings(minimumRate: 90))
        #expect(verdict.status == .warn)
        #expect(verdict.message.hasPrefix("linkage rate 50.0% (30/60 filled) is below checks.min_linkage_rate 90.0%"))
        #expect(verdict.evidence.contains(Evidence("min_linkage_rate", "90.0%")))
    }

    @Test func rateAtTheMinimumOrWithoutOneOrUnknownPasses() {
        #expect(TradeLinkageCheck().evaluate(Fixture.database(), settings: settings(minimumRate: 50)).status == .pass)
        #expect(TradeLinkageCheck().evaluate(Fixture.database(), settings: settings(minimumRate: nil)).status == .pass)
        let noFills = Fixture.database(["linkage-rate": .success([["0", "0"]])])
        #expect(TradeLinkageCheck().evaluate(noFills, settings: settings(minimumRate: 90)).status == .pass)
    }

    @Test func theCountStaysTheFailureRule() {
        let verdict = TradeLinkageCheck().evaluate(Fixture.database(["links": .success([["0"]])]), settings: settings(minimumRate: 90))
        #expect(verdict.status == .fail)
    }
}
