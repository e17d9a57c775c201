"""`/sale/offer-attachments`: a GPSR safety manual (PDF, JPEG or PNG) uploaded for an offer's safety info.

Three steps (spec createOfferAttachmentUsingPOST): POST declares it and answers with the one-time upload URL
in `Location` (never composed by us, #11008); PUT sends the file there; the offer then names the id in
`productSet[].safetyInformation` (not in `attachments`, #10616). A POST whose answer was lost is not
repeated: an attachment no offer names is harmless, and the caller caches the id once the upload succeeded.
"""

from __future__ import annotations

from allegro_sync.adapters.allegro.core import AllegroCore
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.gpsr import OfferAttachment, SafetyFile

SAFETY_MANUAL = "SAFETY_INFORMATION_MANUAL"


class AttachmentsApi(AllegroCore):
    def upload_safety_manual(self, file: SafetyFile) -> OfferAttachment:
        """Declare, then upload, a SAFETY_INFORMATION_MANUAL; its id goes on the offer."""
        declared = self.request(
            "POST", "/sale/offer-attachments", json_body={"type": SAFETY_MANUAL, "file": {"name": file.name}}
        )
        location = declared.headers.get("Location")
        if not location:
            raise AllegroError("POST /sale/offer-attachments answered without an upload URL (Location)")
        uploaded = self.request(
            "PUT", location, host="upload", content=file.data, content_type=file.media_type
        )
        return OfferAttachment.model_validate(uploaded.json())
