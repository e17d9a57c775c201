"""Listing optimization state in the `mappings` table (seller configuration lives there already).

Layout: pk="listing#keywords", sk=<category id> -> the seller's keyword list; pk="listing#proposal#<account>",
sk=<offer id> -> the last reviewed proposal (what `apply` pushes, so it pushes exactly what was shown);
pk="listing#experiment", sk=<experiment id> -> an A/B experiment's groups and starting visits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.listings import Experiment, Proposal
from allegro_sync.contracts.records.mappings import ExperimentItem, KeywordsItem, ProposalItem

KEYWORDS_PK = "listing#keywords"
PROPOSAL_PK = "listing#proposal#"
EXPERIMENT_PK = "listing#experiment"


class DynamoListingStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def _all(self, pk: str) -> list[dict[str, Any]]:
        return list(items.all_items(self._table.query, KeyConditionExpression=Key("pk").eq(pk)))

    def keywords(self, category_id: str) -> list[str]:
        item = self._table.get_item(Key={"pk": KEYWORDS_PK, "sk": category_id}).get("Item")
        return list(json.loads(KeywordsItem.from_item(item).words)) if item else []

    def all_keywords(self) -> dict[str, list[str]]:
        stored = [KeywordsItem.from_item(i) for i in self._all(KEYWORDS_PK)]
        return {i.sk: list(json.loads(i.words)) for i in stored}

    def set_keywords(self, category_id: str, words: Sequence[str]) -> None:
        if not words:
            self._table.delete_item(Key={"pk": KEYWORDS_PK, "sk": category_id})
            return
        words_json = json.dumps(list(words), ensure_ascii=False)
        self._table.put_item(Item=KeywordsItem(pk=KEYWORDS_PK, sk=category_id, words=words_json).item())

    def save_proposals(self, account: str, proposals: Sequence[Proposal]) -> None:
        with self._table.batch_writer() as batch:
            for p in proposals:
                body = json.dumps(asdict(p), ensure_ascii=False)
                batch.put_item(Item=ProposalItem(pk=PROPOSAL_PK + account, sk=p.offer_id, body=body).item())

    def proposal(self, account: str, offer_id: str) -> Proposal | None:
        item = self._table.get_item(Key={"pk": PROPOSAL_PK + account, "sk": offer_id}).get("Item")
        if not item:
            return None
        raw = json.loads(ProposalItem.from_item(item).body)
        raw["reasons"], raw["issues"] = tuple(raw["reasons"]), tuple(raw["issues"])
        return Proposal(**raw)

    def save_experiment(self, experiment: Experiment) -> None:
        body = json.dumps(asdict(experiment), ensure_ascii=False)
        self._table.put_item(
            Item=ExperimentItem(pk=EXPERIMENT_PK, sk=experiment.experiment_id, body=body).item()
        )

    def experiment(self, experiment_id: str) -> Experiment | None:
        item = self._table.get_item(Key={"pk": EXPERIMENT_PK, "sk": experiment_id}).get("Item")
        return _experiment(item) if item else None

    def experiments(self) -> list[Experiment]:
        return [_experiment(i) for i in self._all(EXPERIMENT_PK)]


def _experiment(raw: dict[str, Any]) -> Experiment:
    return Experiment(**json.loads(ExperimentItem.from_item(raw).body))
