// solidity-coverage: measure the modules, not the test doubles. contracts/mocks/ holds tokens and baseline vaults
// for tests and the gas bench; contracts/test/, adversary/ and corpus/ hold vulnerable lab contracts for the
// guardian's tests and benches; governance-test/ a Governor setup for the governance tests.
module.exports = {
  skipFiles: ["mocks/", "test/", "adversary/", "corpus/", "governance-test/"],
  istanbulReporter: ["text", "text-summary", "json-summary", "html"],
};
