import { expect } from "chai";
import { AbiCoder, hexlify, randomBytes, toBeHex } from "ethers";
import { decodeNumericWord } from "../../../guardian/detectors/abi-word";

describe("decodeNumericWord", () => {
  const coder = AbiCoder.defaultAbiCoder();
  const types = ["uint256", "uint128", "uint8", "int256", "int64", "int8", "bool"];
  const asEthers = (type: string, data: string): bigint => {
    const [value] = coder.decode([type], data);
    return typeof value === "boolean" ? (value ? 1n : 0n) : BigInt(value as bigint);
  };

  it("reads a word exactly as ethers' decoder does, for random words and the edges, trailing data included", () => {
    const words = [
      toBeHex(0, 32),
      toBeHex(1, 32),
      toBeHex(2n ** 255n, 32),
      toBeHex(2n ** 256n - 1n, 32),
      toBeHex(0x100, 32),
      toBeHex(0x80, 32),
      ...Array.from({ length: 200 }, () => hexlify(randomBytes(32))),
    ];
    for (const word of words) {
      for (const type of types) {
        expect(decodeNumericWord(type, word), `${type} ${word}`).to.equal(asEthers(type, word));
        const withTrailing = word + "00".repeat(32);
        expect(decodeNumericWord(type, withTrailing), `${type} ${word} with a trailing word`).to.equal(asEthers(type, withTrailing));
      }
    }
  });

  it("refuses return data that is not one whole word, saying what came back", () => {
    expect(() => decodeNumericWord("uint256", "0x")).to.throw('expected a 32-byte uint256 word, got "0x"');
    expect(() => decodeNumericWord("uint256", `0x${"ab".repeat(31)}`)).to.throw("got 31 bytes");
    expect(() => decodeNumericWord("uint256", `0x${"zz".repeat(32)}`)).to.throw("expected a 32-byte uint256 word");
    expect(() => decodeNumericWord("address", toBeHex(1, 32))).to.throw("not a numeric ABI type: address");
  });
});
