"""JSON-RPC 2.0 over ``POST /rpc``: the Ethereum methods Polymarket's SDK calls, on ``Chain``.

Single requests and batches (a JSON array, answered by an array with the same ids) as geth
serves them. Errors are JSON-RPC error objects in an HTTP 200 answer: ``-32601`` for an
unknown method, ``-32602`` for bad parameters, ``-32000`` for a refused transaction (geth's
texts, see ``pm_lib.sim.chain_tx``), and ``3`` with ``execution reverted: <reason>`` and the
``Error(string)`` data for an ``eth_call``/``eth_estimateGas`` that reverts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pm_lib.sim.chain_calls import Revert, encode_revert
from pm_lib.sim.chain_tx import GWEI, MIN_GAS_PRICE, Chain, RpcError, WalletCall

__all__ = ["POL_BALANCE_WEI", "handle_rpc"]

POL_BALANCE_WEI = 1_000 * 10**18  # every account can pay for gas; gas is not charged


def _hex_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcError(-32602, "invalid argument: hex string without 0x prefix")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise RpcError(-32602, "invalid argument: invalid hex string") from None


def _hex_int(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 16)
    except ValueError:
        raise RpcError(-32602, f"invalid argument: {value!r} is not a hex quantity") from None


def _param(params: list[Any], index: int) -> Any:
    if len(params) <= index:
        raise RpcError(-32602, f"missing value for required argument {index}")
    return params[index]


def _reverted(e: Revert) -> RpcError:
    message = f"execution reverted: {e.reason}" if e.reason else "execution reverted"
    return RpcError(3, message, encode_revert(e.reason) if e.reason else "0x")


def _call_of(tx: Any) -> WalletCall:
    if not isinstance(tx, dict):
        raise RpcError(-32602, "invalid argument 0: expected a call object")
    to = tx.get("to")
    if not isinstance(to, str):
        raise RpcError(-32602, "invalid argument 0: missing 'to'")
    data = _hex_bytes(tx.get("data", tx.get("input")))
    sender = str(tx.get("from") or "0x" + "00" * 20)
    return WalletCall(sender, to, data, _hex_int(tx.get("value")))


class _Methods:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.table: dict[str, Callable[[list[Any]], Any]] = {
            "eth_chainId": lambda p: hex(chain.chain_id),
            "net_version": lambda p: str(chain.chain_id),
            "eth_blockNumber": self.block_number,
            "eth_getBlockByNumber": lambda p: chain.block(str(_param(p, 0))),
            "eth_gasPrice": lambda p: hex(MIN_GAS_PRICE + 5 * GWEI),
            "eth_maxPriorityFeePerGas": lambda p: hex(MIN_GAS_PRICE),
            "eth_feeHistory": self.fee_history,
            "eth_getBalance": lambda p: hex(POL_BALANCE_WEI),
            "eth_getCode": self.get_code,
            "eth_getTransactionCount": self.transaction_count,
            "eth_call": self.call,
            "eth_estimateGas": self.estimate_gas,
            "eth_sendRawTransaction": lambda p: chain.send_raw(str(_param(p, 0))),
            "eth_getTransactionReceipt": lambda p: chain.receipt(str(_param(p, 0))),
            "eth_getTransactionByHash": lambda p: chain.transaction(str(_param(p, 0))),
        }

    def block_number(self, params: list[Any]) -> str:
        with self.chain.lock:
            self.chain.advance()
            return hex(self.chain.block_number)

    def fee_history(self, params: list[Any]) -> dict[str, Any]:
        count = max(1, min(_hex_int(_param(params, 0)), 1024))
        with self.chain.lock:
            newest = self.chain.block_number
        percentiles = params[2] if len(params) > 2 and isinstance(params[2], list) else []
        return {
            "oldestBlock": hex(max(0, newest - count + 1)),
            "baseFeePerGas": [hex(GWEI)] * (count + 1),
            "gasUsedRatio": [0.5] * count,
            "reward": [[hex(MIN_GAS_PRICE)] * len(percentiles) for _ in range(count)],
        }

    def get_code(self, params: list[Any]) -> str:
        from pm_lib.sim.chain_calls import is_contract

        return "0x60806040" if is_contract(str(_param(params, 0))) else "0x"

    def transaction_count(self, params: list[Any]) -> str:
        address = str(_param(params, 0))
        block = params[1] if len(params) > 1 else "latest"
        with self.chain.lock:
            self.chain.advance()
            if block == "pending":
                return hex(self.chain.pending_nonce(address))
            return hex(self.chain.latest_nonce(address))

    def call(self, params: list[Any]) -> str:
        call = _call_of(_param(params, 0))
        with self.chain.lock:
            self.chain.advance()
            try:
                return "0x" + self.chain.world.read(call.to, call.data, call.sender).hex()
            except Revert as e:
                raise _reverted(e) from None

    def estimate_gas(self, params: list[Any]) -> str:
        call = _call_of(_param(params, 0))
        with self.chain.lock:
            self.chain.advance()
            try:
                self.chain.simulate([call])
            except Revert as e:
                raise _reverted(e) from None
            return hex(self.chain.estimate([call]))


def _one(methods: _Methods, request: Any) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        return {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32600, "message": "invalid request"},
        }
    rid = request.get("id")
    method = request["method"]
    handler = methods.table.get(method)
    try:
        if handler is None:
            raise RpcError(-32601, f"the method {method} does not exist/is not available")
        params = request.get("params") or []
        if not isinstance(params, list):
            raise RpcError(-32602, "invalid params: expected an array")
        return {"jsonrpc": "2.0", "id": rid, "result": handler(params)}
    except RpcError as e:
        error: dict[str, Any] = {"code": e.code, "message": e.message}
        if e.data is not None:
            error["data"] = e.data
        return {"jsonrpc": "2.0", "id": rid, "error": error}


def handle_rpc(chain: Chain, body: Any) -> Any:
    """The JSON-RPC answer to ``body`` (one request object or a batch array)."""
    methods = _Methods(chain)
    if isinstance(body, list):
        if not body:
            error = {"code": -32600, "message": "empty batch"}
            return {"jsonrpc": "2.0", "id": None, "error": error}
        return [_one(methods, item) for item in body]
    return _one(methods, body)
