"""Review the form, then submit with a progress indicator; a platform INVALID_FIELD goes back to the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.errors import KioskError, PlatformRejected, ValidationError
from kiosk.identity import mask_name
from kiosk.platform_models import Bundle, FieldSpec, MailAddress, Matter
from ui.screens import KioskScreen
from ui.screens.form import DELIVERY
from ui.widgets import KLabel

MAIL_PARTS = ("recipient", "phone", "province", "city", "district", "detail", "street", "postcode")


class ReviewScreen(KioskScreen):
    screen_name = "review"
    matter = ObjectProperty(None, allownone=True)
    bundle = ObjectProperty(None, allownone=True)  # a 一件事 bundle's form (kiosk.bundles.BundleForm)
    matter_title = StringProperty("")
    sending = BooleanProperty(False)
    # 帮办代办: the staff member's line, and whether the citizen is being asked for consent right now.
    assist_text = StringProperty("")
    asking_consent = BooleanProperty(False)

    def refresh(self) -> None:
        m: Matter | Bundle | None = self.bundle.bundle if self.bundle is not None else self.matter
        box = self.ids.summary
        box.clear_widgets()
        if m is None:
            return
        en = self.app.lang == "en"
        self.matter_title = m.name_en if en and m.name_en else m.name
        form = self.app.session.form
        ident = self.app.session.identity
        if ident is not None:
            box.add_widget(
                KLabel(text=self.app.t("review.applicant", name=ident.masked_name, id=ident.masked_id))
            )
        if self.bundle is not None:
            # One review for the whole bundle: the shared details once, then each member's own under its name.
            for section in self.bundle.sections:
                head = section.matter
                heading = (
                    self.app.t("bundle.shared")
                    if head is None
                    else (head.name_en if en and head.name_en else head.name)
                )
                box.add_widget(KLabel(text=heading, bold=True))
                self._lines(box, section.fields, form, en)
        else:
            self._lines(box, m.fields, form, en)
        mode = form.get(DELIVERY, "")
        box.add_widget(
            KLabel(text=self.app.t("review.delivery", mode=self.app.t(f"delivery.{mode}") if mode else ""))
        )
        assist = self.app.session.scratch.get("assist")
        self.asking_consent = False
        self.assist_text = (
            self.app.t(
                "assist.by", mode=self.app.t(f"assist.mode.{assist['mode']}"), staff=assist["staff_id"]
            )
            if assist
            else ""
        )
        mail = form.get("_mail")
        if mode == "MAIL" and mail:
            place = "".join(mail.get(p) or "" for p in ("province", "city", "district", "street", "detail"))
            box.add_widget(
                KLabel(
                    text=self.app.t(
                        "review.mail",
                        recipient=mask_name(mail.get("recipient", "")),
                        phone=mail.get("phone", ""),
                        address=place,
                    )
                )
            )
        elif mode == "MAIL":
            box.add_widget(KLabel(text=self.app.t("mail.centre_will_phone")))

    def _lines(self, box: Any, fields: Sequence[FieldSpec], form: dict[str, str], en: bool) -> None:
        for spec in fields:
            value = form.get(spec.key, "") or self.app.t("review.empty")
            if spec.type == "CHOICE":
                value = self.app.catalogue.strings[self.app.lang].get(f"choice.{value}", value)
            label = spec.label_en if en and spec.label_en else spec.label
            box.add_widget(KLabel(text=f"{label}: {value}"))

    def submit(self, consent: bool = False) -> None:
        if self.sending or (self.matter is None and self.bundle is None) or self.app.session.identity is None:
            return
        assist = self.app.session.scratch.get("assist")
        if assist and not consent:
            self.asking_consent = True  # the citizen confirms on screen that staff file this with / for them
            return
        self.asking_consent = False
        try:
            helper = self.app.rt.filing.assisted_by(assist, consent)
        except ValidationError as err:
            self.error = self.app.error_text(err)
            return
        self.sending = True
        form = {k: v for k, v in self.app.session.form.items() if not k.startswith("_")}
        mode = form.pop(DELIVERY, "")
        raw = self.app.session.form.get("_mail") if mode == "MAIL" else None
        mail = MailAddress(**{p: raw.get(p) or None for p in MAIL_PARTS}) if raw else None  # type: ignore[arg-type]
        if self.bundle is not None:
            # SubmitBundle through the outbox: exactly once, all or nothing; a receipt number at once.
            self.app.call(
                self.app.rt.filing.submit_bundle,
                self.app.session.identity,
                self.bundle.bundle.code,
                form,
                mode,
                mail=mail,
                assisted_by=helper,
                on_done=self._bundle_done,
                on_error=self._failed,
            )
            return
        self.app.call(
            self.app.rt.filing.submit_application,
            self.app.session.identity,
            self.matter.code,
            form,
            mode,
            mail=mail,
            assisted_by=helper,
            on_done=self._done,
            on_error=self._failed,
        )

    def decline(self) -> None:
        """The citizen does not consent: nothing is filed, and the refusal is audited under the staff id."""
        assist = self.app.session.scratch.get("assist")
        self.asking_consent = False
        if assist:
            self.app.rt.run(lambda: self.app.rt.filing.audit_assist(assist, "consent_declined"))
        self.error = self.app.t("assist.declined")

    def _done(self, receipt: object) -> None:
        self.sending = False
        self.app.session.scratch["receipt"] = receipt
        self.app.go("result", receipt=receipt)

    def _bundle_done(self, receipt: object) -> None:
        self.sending = False
        self.app.session.scratch["receipt"] = receipt
        self.app.go("bundle_result", receipt=receipt, bundle=self.bundle)

    def _failed(self, err: BaseException) -> None:
        self.sending = False
        if isinstance(err, ValidationError) and (err.field or "").startswith("mailAddress"):
            # A part of the address (ours or the platform's INVALID_FIELD): back to that part of the address.
            part = err.field.removeprefix("mailAddress").lstrip(".") or "detail"
            cause = err.__cause__
            said = (
                cause.platform_message.strip().rstrip("。.！!") if isinstance(cause, PlatformRejected) else ""
            )
            text = self.app.t("form.field_rejected", message=said) if said else self.app.error_text(err)
            self.app.session.form["_mail_error"] = (part, text)
            self.app.go("mail")
            return
        if isinstance(err, ValidationError):
            # Back to the form, at the field the error names or (a name no field has) for the whole form,
            # with the platform's own words when it was the platform that refused.
            cause = err.__cause__
            said = cause.platform_message if isinstance(cause, PlatformRejected) else ""
            self.app.get_screen("form").show_submit_error(err.field, self.app.error_text(err), said)
            return
        self.error = self.app.error_text(err if isinstance(err, KioskError) else KioskError(str(err)))

    def wipe(self) -> None:
        super().wipe()
        self.ids.summary.clear_widgets()
        self.matter = None
        self.bundle = None
        self.sending = False
        self.asking_consent = False
        self.assist_text = ""
