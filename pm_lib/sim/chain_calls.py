"""The contracts the chain side emulates: calls decoded by 4-byte selector, run on the wallets.

Balances are the exchange's own ledgers (``pm_lib.sim.accounts``): pUSD and conditional tokens
in integer 6-decimal units, so what the CLOB fills is what ``balanceOf`` reads and what a merge
or a redemption moves. Emulated contracts (Polygon addresses, ``pm_lib.sim.chain_wallets``):

- **pUSD** (ERC-20): ``balanceOf``, ``allowance``, ``decimals``, ``approve``, ``transfer``;
- **ConditionalTokens** (ERC-1155, Gnosis CTF): ``balanceOf``, ``balanceOfBatch``,
  ``isApprovedForAll``, ``setApprovalForAll``, ``payoutNumerators``, ``payoutDenominator``,
  ``getOutcomeSlotCount``; the **NegRiskAdapter** answers the same ERC-1155 reads for neg-risk
  positions (the SDK reads neg-risk balances there);
- the V2 **position manager** (ERC-1155): reads and ``setApprovalForAll`` only, so the SDK's
  ``setup_trading_approvals`` can grant every approval it checks;
- the two **collateral adapters** (standard and neg-risk markets): ``splitPosition``,
  ``mergePositions`` and ``redeemPositions`` with the CTF signature and pUSD as collateral,
  as Polymarket's SDK calls them: split takes N pUSD and gives N of each outcome, merge burns
  N of each outcome and gives N pUSD, redeem (after resolution) burns both outcomes and pays
  the winning balance 1:1 (losing tokens are burned for 0).

What is checked, as the contracts would: pUSD balance and allowance (split, transfer), ERC-1155
operator approval of the adapter on the CTF (merge, redeem), both outcome balances (merge),
resolution (redeem: ``result for condition not received yet``), collateral, parent collection
and partition. The adapter must match the market (standard vs neg-risk): through the other one
a merge reverts (no balance of its position ids) and a redemption succeeds and pays nothing
(the CTF redeems empty positions without complaint), the silent no-op a settlement must catch
by checking balances. A call the emulator
does not know reverts ("pm-sim: ... not emulated") rather than pretending to succeed.
Outcome token ids are the market's CLOB token ids (the emulator does not recompute CTF
position ids from collection ids).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from pm_lib.sim.accounts import COLLATERAL, MAX_ALLOWANCE, Accounts, Wallet
from pm_lib.sim.chain_wallets import (
    COLLATERAL_ADAPTER,
    CONDITIONAL_TOKENS,
    DEPOSIT_WALLET_BEACON,
    DEPOSIT_WALLET_FACTORY,
    NEG_RISK_ADAPTER,
    NEG_RISK_COLLATERAL_ADAPTER,
    POSITION_MANAGER,
    PUSD,
)
from pm_lib.sim.state import SimMarket, VenueState

__all__ = ["CallSpec", "ChainWorld", "Revert", "encode_revert", "selector"]


def selector(signature: str) -> bytes:
    """The 4-byte function selector of ``signature``."""
    return keccak(text=signature)[:4]


class Revert(Exception):
    """A call reverted; ``reason`` is its ``Error(string)`` message (may be empty)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_revert(reason: str) -> str:
    """The revert data of ``Error(reason)``, 0x-hex."""
    return "0x" + (selector("Error(string)") + abi_encode(["string"], [reason])).hex()


@dataclass(frozen=True)
class CallSpec:
    """One function: its argument types, and its return types when it is a view."""

    name: str
    args: tuple[str, ...]
    returns: tuple[str, ...] = ()


def _spec(signature: str, returns: tuple[str, ...] = ()) -> tuple[bytes, CallSpec]:
    name, _, rest = signature.partition("(")
    inner = rest[:-1]
    args = tuple(_split_types(inner)) if inner else ()
    return selector(signature), CallSpec(name, args, returns)


def _split_types(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


_ERC20 = dict(
    [
        _spec("balanceOf(address)", ("uint256",)),
        _spec("allowance(address,address)", ("uint256",)),
        _spec("decimals()", ("uint8",)),
        _spec("approve(address,uint256)", ("bool",)),
        _spec("transfer(address,uint256)", ("bool",)),
    ]
)
_ERC1155_READS = dict(
    [
        _spec("balanceOf(address,uint256)", ("uint256",)),
        _spec("balanceOfBatch(address[],uint256[])", ("uint256[]",)),
        _spec("isApprovedForAll(address,address)", ("bool",)),
    ]
)
_CTF = {
    **_ERC1155_READS,
    **dict(
        [
            _spec("setApprovalForAll(address,bool)"),
            _spec("payoutNumerators(bytes32,uint256)", ("uint256",)),
            _spec("payoutDenominator(bytes32)", ("uint256",)),
            _spec("getOutcomeSlotCount(bytes32)", ("uint256",)),
        ]
    ),
}
_ADAPTER = dict(
    [
        _spec("splitPosition(address,bytes32,bytes32,uint256[],uint256)"),
        _spec("mergePositions(address,bytes32,bytes32,uint256[],uint256)"),
        _spec("redeemPositions(address,bytes32,bytes32,uint256[])"),
    ]
)
_FACTORY = dict([_spec("beacon()", ("address",))])
_APPROVALS_ONLY = {**_ERC1155_READS, **dict([_spec("setApprovalForAll(address,bool)")])}

_CONTRACTS: dict[str, dict[bytes, CallSpec]] = {
    PUSD.lower(): _ERC20,
    CONDITIONAL_TOKENS.lower(): _CTF,
    NEG_RISK_ADAPTER.lower(): _ERC1155_READS,
    COLLATERAL_ADAPTER.lower(): _ADAPTER,
    NEG_RISK_COLLATERAL_ADAPTER.lower(): _ADAPTER,
    DEPOSIT_WALLET_FACTORY.lower(): _FACTORY,
    POSITION_MANAGER.lower(): {
        **_ERC1155_READS,
        **dict([_spec("setApprovalForAll(address,bool)")]),
    },
}
_BINARY = [1, 2]
_ZERO32 = bytes(32)
NOT_RESOLVED = "result for condition not received yet"
NOT_APPROVED = "ERC1155: need operator approval for 3rd party transfers."
LOW_BALANCE_1155 = "ERC1155: insufficient balance for transfer"
LOW_BALANCE_20 = "ERC20: transfer amount exceeds balance"
LOW_ALLOWANCE_20 = "ERC20: insufficient allowance"


def _checksummed(abi_type: str, value: Any) -> Any:
    """Addresses as checksummed strings: allowance books are keyed that way."""
    if abi_type == "address":
        return str(to_checksum_address(value))
    if abi_type == "address[]":
        return [str(to_checksum_address(v)) for v in value]
    return value


def is_contract(address: str) -> bool:
    """Whether ``address`` is a contract the emulator knows (has code)."""
    return address.lower() in _CONTRACTS


@dataclass
class ChainWorld:
    """The state calls run against: the exchange's accounts and the venue's markets.

    Mutations record each touched wallet's prior state, so a reverted transaction (or one
    failing call of a batch) is undone whole with ``rollback``."""

    accounts: Accounts
    state: VenueState
    _saved: dict[str, Wallet | None] = field(default_factory=dict)

    # -- state access ------------------------------------------------------------------------

    def peek(self, address: str) -> Wallet:
        """The wallet at ``address`` for reading (an empty one when unknown; not created)."""
        return self.accounts.wallets.get(address.lower()) or Wallet(address=address)

    def touch(self, address: str) -> Wallet:
        """The wallet at ``address`` for writing; its prior state is kept for ``rollback``."""
        key = address.lower()
        if key not in self._saved:
            existing = self.accounts.wallets.get(key)
            self._saved[key] = copy.deepcopy(existing)
        return self.accounts.wallet(address)

    def commit(self) -> None:
        """Keep every change since the last commit."""
        self._saved.clear()

    def rollback(self) -> None:
        """Undo every change since the last commit."""
        for key, before in self._saved.items():
            if before is None:
                self.accounts.wallets.pop(key, None)
            else:
                self.accounts.wallets[key] = before
        self._saved.clear()

    def market(self, condition_id: bytes) -> SimMarket:
        cid = "0x" + condition_id.hex()
        markets = self.state.markets
        found = markets.get(cid)
        if found is None:
            for key, market in markets.items():
                if key.lower() == cid:
                    return market
            raise Revert("condition not prepared yet")
        return found

    # -- dispatch ----------------------------------------------------------------------------

    def _decode(self, to: str, data: bytes) -> tuple[CallSpec, tuple[Any, ...]]:
        functions = _CONTRACTS.get(to.lower())
        if functions is None:
            raise Revert(f"pm-sim: no emulated contract at {to}")
        spec = functions.get(bytes(data[:4]))
        if spec is None:
            raise Revert(f"pm-sim: function 0x{bytes(data[:4]).hex()} of {to} not emulated")
        try:
            args = tuple(abi_decode(list(spec.args), bytes(data[4:]))) if spec.args else ()
        except (DecodingError, ValueError, OverflowError) as e:
            raise Revert("") from e
        return spec, tuple(_checksummed(t, a) for t, a in zip(spec.args, args, strict=True))

    def read(self, to: str, data: bytes, sender: str = "0x" + "00" * 20) -> bytes:
        """``eth_call``: the ABI-encoded return data of a view (or of a write simulated as
        ``sender``)."""
        to = str(to_checksum_address(to))
        if not is_contract(to):
            return b""  # no code at the address: an empty result, as on chain
        spec, args = self._decode(to, data)
        if spec.name in _WRITES:  # simulated, as eth_call runs a write without keeping it
            try:
                self.execute(to, data, sender=sender)
            finally:
                self.rollback()
            return abi_encode(list(spec.returns), [True]) if spec.returns else b""
        view = _VIEWS.get(spec.name)
        if view is None:
            raise Revert(f"pm-sim: {spec.name} not emulated")
        return abi_encode(list(spec.returns), [view(self, to, args)])

    def execute(self, to: str, data: bytes, *, sender: str, value: int = 0) -> None:
        """Run one call from ``sender``; raises ``Revert``. Call ``commit``/``rollback`` after."""
        to = str(to_checksum_address(to))
        if value:
            raise Revert("pm-sim: POL value transfers are not emulated")
        if not is_contract(to):
            if data:
                raise Revert(f"pm-sim: no emulated contract at {to}")
            return
        spec, args = self._decode(to, data)
        write = _WRITES.get(spec.name)
        if write is None:
            if spec.name in _VIEWS:
                return  # a view sent as a transaction changes nothing
            raise Revert(f"pm-sim: {spec.name} not emulated")
        write(self, to, sender, args)


# -- views -----------------------------------------------------------------------------------


def _token_of(args_id: int) -> str:
    return str(args_id)


def _balance_of(world: ChainWorld, to: str, args: tuple[Any, ...]) -> Any:
    if to.lower() == PUSD.lower():
        return world.peek(args[0]).pusd
    return world.peek(args[0]).balance_of(_token_of(args[1]))


def _balance_of_batch(world: ChainWorld, to: str, args: tuple[Any, ...]) -> Any:
    owners, ids = args
    if len(owners) != len(ids):
        raise Revert("ERC1155: accounts and ids length mismatch")
    return [world.peek(o).balance_of(_token_of(i)) for o, i in zip(owners, ids, strict=True)]


def _allowance(world: ChainWorld, to: str, args: tuple[Any, ...]) -> Any:
    return world.peek(args[0]).allowance_for(COLLATERAL, args[1])


def _approved_for_all(world: ChainWorld, to: str, args: tuple[Any, ...]) -> Any:
    return _is_operator(world.peek(args[0]), args[1])


def _is_operator(wallet: Wallet, operator: str) -> bool:
    return any(
        s.lower() == operator.lower() and units > 0 for s, units in wallet.token_allowances.items()
    )


def _payout_numerator(world: ChainWorld, to: str, args: tuple[Any, ...]) -> Any:
    market = world.market(args[0])
    if market.winner is None or args[1] > 1:
        return 0
    return 1 if market.outcomes[args[1]] == market.winner else 0


def _payout_denominator(world: ChainWorld, to: str, args: tuple[Any, ...]) -> Any:
    return 0 if world.market(args[0]).winner is None else 1


_VIEWS: dict[str, Callable[[ChainWorld, str, tuple[Any, ...]], Any]] = {
    "balanceOf": _balance_of,
    "balanceOfBatch": _balance_of_batch,
    "allowance": _allowance,
    "isApprovedForAll": _approved_for_all,
    "decimals": lambda w, t, a: 6,
    "payoutNumerators": _payout_numerator,
    "payoutDenominator": _payout_denominator,
    "getOutcomeSlotCount": lambda w, t, a: 2 if w.market(a[0]) else 0,
    "beacon": lambda w, t, a: DEPOSIT_WALLET_BEACON,
}


# -- writes ----------------------------------------------------------------------------------


def _approve(world: ChainWorld, to: str, sender: str, args: tuple[Any, ...]) -> None:
    world.touch(sender).pusd_allowances[args[0]] = int(args[1])


def _transfer(world: ChainWorld, to: str, sender: str, args: tuple[Any, ...]) -> None:
    recipient, amount = args
    source = world.touch(sender)
    if source.pusd < amount:
        raise Revert(LOW_BALANCE_20)
    source.pusd -= amount
    world.touch(recipient).pusd += amount


def _set_approval_for_all(world: ChainWorld, to: str, sender: str, args: tuple[Any, ...]) -> None:
    operator, approved = args
    book = world.touch(sender).token_allowances
    for key in [k for k in book if k.lower() == operator.lower()]:
        del book[key]
    book[operator] = MAX_ALLOWANCE if approved else 0


def _adapter_market(
    world: ChainWorld, adapter: str, args: tuple[Any, ...], partition: Sequence[int]
) -> SimMarket:
    collateral, parent, condition_id = args[0], args[1], args[2]
    if collateral.lower() != PUSD.lower():
        raise Revert("pm-sim: the collateral adapters take pUSD only")
    if parent != _ZERO32:
        raise Revert("pm-sim: nested positions (a parent collection) are not emulated")
    if list(partition) != _BINARY:
        raise Revert("pm-sim: only the binary partition [1, 2] is emulated")
    return world.market(condition_id)


def _right_adapter(adapter: str, market: SimMarket) -> bool:
    """Whether ``adapter`` is the one for ``market`` (standard vs neg-risk). The other one
    computes other position ids (other collateral): the wallet holds none of those."""
    return market.neg_risk == (adapter.lower() == NEG_RISK_COLLATERAL_ADAPTER.lower())


def _split(world: ChainWorld, to: str, sender: str, args: tuple[Any, ...]) -> None:
    market = _adapter_market(world, to, args, args[3])
    amount = int(args[4])
    if not _right_adapter(to, market):
        raise Revert("pm-sim: a split through the other adapter is not emulated")
    wallet = world.touch(sender)
    if wallet.pusd < amount:
        raise Revert(LOW_BALANCE_20)
    if wallet.allowance_for(COLLATERAL, to) < amount:
        raise Revert(LOW_ALLOWANCE_20)
    wallet.spend_allowance(COLLATERAL, to, amount)
    wallet.pusd -= amount
    for token in market.token_ids:
        wallet.credit(token, amount)


def _merge(world: ChainWorld, to: str, sender: str, args: tuple[Any, ...]) -> None:
    market = _adapter_market(world, to, args, args[3])
    amount = int(args[4])
    wallet = world.touch(sender)
    if not _is_operator(wallet, to):
        raise Revert(NOT_APPROVED)
    if not _right_adapter(to, market):
        raise Revert(LOW_BALANCE_1155)
    if any(wallet.balance_of(token) < amount for token in market.token_ids):
        raise Revert(LOW_BALANCE_1155)
    for token in market.token_ids:
        wallet.credit(token, -amount)
    wallet.pusd += amount


def _redeem(world: ChainWorld, to: str, sender: str, args: tuple[Any, ...]) -> None:
    market = _adapter_market(world, to, args, _BINARY)
    index_sets = list(args[3])
    if market.winner is None:
        raise Revert(NOT_RESOLVED)
    wallet = world.touch(sender)
    if not _is_operator(wallet, to):
        raise Revert(NOT_APPROVED)
    if not _right_adapter(to, market):
        return  # the CTF redeems positions the wallet does not hold: succeeds, pays nothing
    payout = 0
    for index_set, token, outcome in zip(_BINARY, market.token_ids, market.outcomes, strict=True):
        if index_set not in index_sets:
            continue
        held = wallet.balance_of(token)
        if outcome == market.winner:
            payout += held
        wallet.credit(token, -held)
    wallet.pusd += payout


_WRITES: dict[str, Callable[[ChainWorld, str, str, tuple[Any, ...]], None]] = {
    "approve": _approve,
    "transfer": _transfer,
    "setApprovalForAll": _set_approval_for_all,
    "splitPosition": _split,
    "mergePositions": _merge,
    "redeemPositions": _redeem,
}
