"""What the demo's customers and agents said: scripted conversations by
situation and language.

A turn is (who, text). Placeholders: {first} (the customer's first name),
{number}, {carrier}, {tracking}, {eta}, {date}, {item}, {amount}, {email}.
A customer turn says how the customer sounds (CUSTOMER, UPSET, GLAD): the
demo tags the stored message with that mood, as the sentiment model would.
"""

from __future__ import annotations

from dataclasses import dataclass

CUSTOMER = "customer"  # a customer message in a neutral tone
UPSET = "upset"  # a customer message that sounds negative
GLAD = "glad"  # a customer message that sounds positive
AGENT = "agent"
ASK = "ask"  # an agent reply that waits on the customer: the ticket goes pending
NOTE = "note"  # an internal note
ARRIVED = "arrived"  # a (glad) customer message that can only come once the parcel is delivered

# The sentiment label of each kind of customer turn.
MOODS = {CUSTOMER: "neutral", UPSET: "negative", GLAD: "positive", ARRIVED: "positive"}


@dataclass(frozen=True)
class Script:
    subject: str
    turns: tuple[tuple[str, str], ...]
    solved: bool = True  # the agent marks the ticket solved after the last turn


LATE = {
    "en": [
        Script(
            "Order #{number} has not arrived",
            (
                (
                    UPSET,
                    "Hi, my order #{number} was supposed to arrive by {eta} and it still isn't here. "
                    "The tracking hasn't moved for days. Can you check what's going on?",
                ),
                (NOTE, "Opened a trace with {carrier} for {tracking}."),
                (
                    AGENT,
                    "Hi {first}, I'm sorry for the wait. I checked with {carrier}: your parcel ({tracking}) "
                    "is held at their sorting centre after a backlog. They expect to deliver it within two working "
                    "days. I'll keep an eye on it.",
                ),
                (CUSTOMER, "OK, thanks for checking."),
                (ARRIVED, "It finally arrived today. Thanks for chasing it!"),
                (AGENT, "Great to hear, {first}. Enjoy your new gear!"),
            ),
        ),
        Script(
            "Where is my parcel?",
            (
                (
                    UPSET,
                    "Hello, I ordered a week ago (#{number}) and the delivery date {eta} has passed. "
                    "I need the things for a trip next weekend. Will they make it?",
                ),
                (
                    AGENT,
                    "Hi {first}, thanks for your patience. {carrier} reports a delay for {tracking}; the parcel "
                    "is moving again and should reach you in the next days, well before your trip. If it doesn't, "
                    "tell me and we'll send the items again by express.",
                ),
                (ARRIVED, "Got it, just in time. Thank you!"),
            ),
        ),
    ],
    "de": [
        Script(
            "Bestellung #{number} noch nicht angekommen",
            (
                (
                    UPSET,
                    "Hallo, meine Bestellung #{number} sollte am {eta} ankommen, ist aber immer noch nicht "
                    "da. Die Sendungsverfolgung bewegt sich seit Tagen nicht. Können Sie das prüfen?",
                ),
                (NOTE, "Nachforschungsauftrag bei {carrier} für {tracking} gestellt."),
                (
                    AGENT,
                    "Hallo {first}, entschuldigen Sie bitte die Verzögerung. Laut {carrier} liegt Ihr Paket "
                    "({tracking}) im Verteilzentrum fest; die Zustellung ist in den nächsten zwei Werktagen geplant. "
                    "Ich behalte das im Blick.",
                ),
                (ARRIVED, "Das Paket ist heute angekommen. Danke für die Hilfe!"),
                (AGENT, "Schön, das zu hören. Viel Spaß mit der Ausrüstung!"),
            ),
        ),
    ],
    "he": [
        Script(
            "הזמנה {number} לא הגיעה",
            (
                (
                    UPSET,
                    "שלום, הזמנה {number} הייתה אמורה להגיע עד {eta} ועדיין לא הגיעה. "
                    "המעקב לא התעדכן כבר כמה ימים. תוכלו לבדוק?",
                ),
                (NOTE, "Trace opened with {carrier} for {tracking}."),
                (
                    AGENT,
                    "שלום {first}, מצטערים על העיכוב. בדקתי מול {carrier}: החבילה ({tracking}) מעוכבת "
                    "במרכז המיון והם צפויים למסור אותה תוך יומיים-שלושה ימי עסקים. אמשיך לעקוב.",
                ),
                (ARRIVED, "תודה רבה, החבילה הגיעה היום!"),
                (AGENT, "איזה יופי, {first}. תהנו מהציוד!"),
            ),
        ),
    ],
    "fa": [
        Script(
            "سفارش {number} هنوز نرسیده",
            (
                (
                    UPSET,
                    "سلام، سفارش {number} قرار بود تا {eta} برسد ولی هنوز نرسیده. "
                    "کد رهگیری چند روز است به‌روز نشده. لطفاً بررسی کنید.",
                ),
                (
                    AGENT,
                    "سلام {first}، بابت تأخیر عذر می‌خواهیم. با {carrier} تماس گرفتم: بسته ({tracking}) در "
                    "مرکز مرتب‌سازی مانده و ظرف دو روز کاری تحویل داده می‌شود. پیگیری می‌کنم.",
                ),
                (ARRIVED, "ممنون، بسته امروز رسید!"),
            ),
        ),
    ],
}

# For parcels that are late right now: the story is not over yet.
LATE_OPEN = {
    "en": [
        Script(
            "Order #{number} is late",
            (
                (UPSET, "Where is my order #{number}? It should have been here on {eta}."),
                (NOTE, "Carrier shows 'delayed' since the hub scan. Trace requested."),
                (
                    AGENT,
                    "Hi {first}, sorry about this. {carrier} reports a delay at the sorting centre for "
                    "{tracking}. I've asked them to prioritise it and will update you as soon as I hear back.",
                ),
                (UPSET, "Any news? I need it for a trip this weekend."),
                (
                    AGENT,
                    "I chased {carrier} again this morning. If the parcel hasn't moved by tomorrow, we'll send "
                    "a replacement by express at no cost to you.",
                ),
            ),
            solved=False,
        ),
    ],
    "he": [
        Script(
            "איפה ההזמנה שלי?",
            (
                (UPSET, "היי, ההזמנה {number} הייתה אמורה להגיע ב-{eta}. איפה היא?"),
                (
                    AGENT,
                    "שלום {first}, {carrier} מדווחים על עיכוב בשחרור מהמכס עבור {tracking}. "
                    "פתחתי בירור ואעדכן ברגע שתהיה תשובה.",
                ),
                (UPSET, "יש חדש? אני צריך את הציוד לטיול בסוף השבוע."),
            ),
            solved=False,
        ),
    ],
    "fa": [
        Script(
            "تأخیر در ارسال سفارش {number}",
            (
                (UPSET, "سلام، سفارش {number} باید {eta} می‌رسید. چه خبر شده؟"),
                (
                    AGENT,
                    "سلام {first}، {carrier} برای بسته {tracking} تأخیر اعلام کرده است. پیگیری را شروع "
                    "کرده‌ام و به محض دریافت پاسخ به شما خبر می‌دهم.",
                ),
            ),
            solved=False,
        ),
    ],
}

DAMAGED = {
    "en": [
        Script(
            "Damaged {item}",
            (
                (
                    UPSET,
                    "Hello, the {item} from order #{number} arrived damaged: the box was crushed and "
                    "part of it is bent. What can I do?",
                ),
                (
                    ASK,
                    "Hi {first}, I'm really sorry. Could you send us a photo of the damage and of the box? "
                    "Then we'll sort out a replacement straight away.",
                ),
                (CUSTOMER, "Here are the photos, I also sent them by email."),
                (NOTE, "Photos show transport damage. Claim filed with {carrier}, replacement approved."),
                (
                    AGENT,
                    "Thanks, {first}. A replacement {item} leaves our warehouse today; you'll get the tracking "
                    "number by email. No need to send the damaged one back.",
                ),
                (GLAD, "Perfect, thank you!"),
            ),
        ),
    ],
    "he": [
        Script(
            "מוצר פגום בהזמנה {number}",
            (
                (UPSET, "קיבלתי את הזמנה {number} אבל {item} הגיע פגום, האריזה הייתה קרועה. מה עושים?"),
                (ASK, "שלום {first}, מצטערים לשמוע! אפשר לשלוח תמונה של הפריט ושל האריזה? נשלח פריט חלופי מיד."),
                (CUSTOMER, "שלחתי תמונות במייל."),
                (AGENT, "תודה! פריט חלופי יוצא היום, ומספר מעקב יישלח אליך בנפרד."),
            ),
        ),
    ],
}

WRONG_SIZE = {
    "en": [
        Script(
            "Wrong size delivered",
            (
                (UPSET, "I ordered the {item} but the one in the box is a different size. Can you exchange it?"),
                (
                    AGENT,
                    "Hi {first}, sorry for the mix-up! I've emailed you a free return label and reserved the "
                    "right size for you. Drop the parcel at any {carrier} point and we'll ship the exchange as soon "
                    "as it's scanned.",
                ),
                (GLAD, "Thanks, I dropped it off today."),
                (AGENT, "Got the scan, your exchange is on its way."),
            ),
        ),
    ],
    "es": [
        Script(
            "Talla equivocada",
            (
                (UPSET, "Hola, pedí {item} pero la talla que ha llegado no es la correcta. ¿Podéis cambiarla?"),
                (
                    AGENT,
                    "Hola {first}, ¡perdona el error! Te hemos enviado por correo una etiqueta de devolución "
                    "gratuita y te reservamos la talla correcta. Te la enviamos en cuanto {carrier} escanee "
                    "el paquete.",
                ),
                (GLAD, "Perfecto, ya lo he entregado en la oficina."),
            ),
        ),
    ],
}

REFUND = {
    "en": [
        Script(
            "Refund for order #{number}",
            (
                (CUSTOMER, "Hi, I sent back the {item} about two weeks ago. When will I get my refund?"),
                (
                    AGENT,
                    "Hi {first}, your return reached our warehouse on {date} and the refund of {amount} was "
                    "issued today. Depending on your bank it shows up within 3 to 5 working days.",
                ),
                (GLAD, "Great, thank you."),
            ),
        ),
        Script(
            "Still waiting for my money",
            (
                (
                    UPSET,
                    "You confirmed the refund for order #{number} weeks ago and I still don't have my "
                    "money back. This is getting frustrating.",
                ),
                (NOTE, "Refund stuck in the PSP queue, re-triggered manually."),
                (
                    AGENT,
                    "Hi {first}, you're right, and I apologise. The refund of {amount} got stuck with our "
                    "payment provider; I've pushed it through by hand today. You should see it within a few days.",
                ),
                (GLAD, "It's there now. Thanks for sorting it."),
            ),
        ),
    ],
    "de": [
        Script(
            "Erstattung für Bestellung #{number}",
            (
                (
                    CUSTOMER,
                    "Hallo, ich habe die Rücksendung für Bestellung #{number} vor zwei Wochen abgeschickt. "
                    "Wann bekomme ich mein Geld zurück?",
                ),
                (
                    AGENT,
                    "Hallo {first}, Ihre Rücksendung ist am {date} bei uns eingegangen, die Erstattung über "
                    "{amount} haben wir heute veranlasst. Je nach Bank dauert es 3 bis 5 Werktage.",
                ),
                (GLAD, "Danke!"),
            ),
        ),
    ],
    "es": [
        Script(
            "Reembolso del pedido #{number}",
            (
                (
                    CUSTOMER,
                    "Hola, devolví el pedido #{number} hace dos semanas y todavía no he recibido el "
                    "reembolso. ¿Cuándo llegará?",
                ),
                (
                    AGENT,
                    "Hola {first}, recibimos tu devolución el {date} y hoy hemos emitido el reembolso de "
                    "{amount}. Según tu banco, tardará de 3 a 5 días hábiles.",
                ),
                (GLAD, "¡Gracias!"),
            ),
        ),
    ],
    "he": [
        Script(
            "החזר כספי להזמנה {number}",
            (
                (CUSTOMER, "החזרתי את {item} לפני שבועיים ועדיין לא קיבלתי החזר כספי. מתי הוא יגיע?"),
                (
                    AGENT,
                    "שלום {first}, ההחזרה התקבלה במחסן שלנו ב-{date} וההחזר על סך {amount} בוצע היום. "
                    "הוא יופיע בחשבון תוך 3 עד 5 ימי עסקים.",
                ),
                (GLAD, "מעולה, תודה!"),
            ),
        ),
    ],
}

DOUBLE_CHARGE = {
    "en": [
        Script(
            "Charged twice for order #{number}",
            (
                (UPSET, "My card was charged twice for order #{number}! Please refund the second payment."),
                (NOTE, "PSP shows one capture and one expired authorisation. Nothing to refund."),
                (
                    AGENT,
                    "Hi {first}, I checked with our payment provider: only one payment of {amount} was taken. "
                    "The second line is an authorisation hold that your bank releases automatically within 5 to 7 "
                    "days.",
                ),
                (GLAD, "Ah OK, it's gone now. Thanks."),
            ),
        ),
    ],
    "fa": [
        Script(
            "کسر دوباره مبلغ سفارش {number}",
            (
                (UPSET, "سلام، مبلغ سفارش {number} دو بار از کارت من کسر شده است. لطفاً بررسی کنید."),
                (
                    AGENT,
                    "سلام {first}، فقط یک پرداخت به مبلغ {amount} انجام شده است. مورد دوم یک پیش‌مجوز "
                    "بانکی است که ظرف چند روز به‌طور خودکار به حساب شما برمی‌گردد.",
                ),
                (GLAD, "متوجه شدم، ممنون از توضیح."),
            ),
        ),
    ],
}

PAYMENT_FAILED = {
    "en": [
        Script(
            "Payment keeps failing",
            (
                (
                    UPSET,
                    "I tried to pay for my order three times and it keeps failing with 'payment declined'. "
                    "My card works everywhere else.",
                ),
                (
                    ASK,
                    "Hi {first}, sorry about that. Our provider asked for 3-D Secure and the confirmation timed "
                    "out. Could you try again and approve the payment in your banking app? I've kept order #{number} "
                    "for you.",
                ),
                (GLAD, "That worked, thanks!"),
                (AGENT, "Payment received. Your order ships tomorrow."),
            ),
        ),
    ],
    "fa": [
        Script(
            "خطا در پرداخت",
            (
                (UPSET, "پرداخت سفارش {number} با خطا مواجه شد ولی مبلغ از حسابم کسر شده است."),
                (
                    AGENT,
                    "سلام {first}، این مبلغ فقط یک پیش‌مجوز بانکی است و ظرف چند روز به حساب شما برمی‌گردد. "
                    "لطفاً دوباره پرداخت را امتحان کنید و آن را در اپلیکیشن بانک تأیید کنید.",
                ),
                (GLAD, "این بار درست شد، ممنون."),
            ),
        ),
    ],
}

# Product questions in English depend on what the customer asks about.
PRODUCT_BY_CATEGORY = {
    "tents": (
        "Is the {item} freestanding? And can I pitch the fly first when it's raining?",
        "Hi {first}, yes to both: the {item} is freestanding, and with the footprint you can pitch the fly "
        "first so the inner stays dry.",
    ),
    "footwear": (
        "I usually wear EU 42 in running shoes. Which size should I take in the {item}?",
        "Hi {first}, this model runs about half a size small, so we'd suggest going one size up. Exchanges are "
        "free within 30 days if it doesn't fit.",
    ),
    "jackets": (
        "Is the {item} warm enough on its own for ski touring, or do I need a layer under it?",
        "Hi {first}, for ski touring we'd wear it over a fleece or a light down layer; on the way up you'll "
        "often want just the base layer and the shell.",
    ),
    "backpacks": (
        "Does the {item} fit as carry-on luggage?",
        "Hi {first}, it fits most airlines' cabin limits when it isn't packed to the brim. Do check your "
        "airline's size rules before you fly.",
    ),
    "stoves": (
        "Which gas canisters fit the {item}?",
        "Hi {first}, any standard screw-thread (EN 417) canister fits, for example our 230 g canister.",
    ),
    "sleeping bags": (
        "Can I wash the {item} at home?",
        "Hi {first}, yes: front-loading machine, 30 °C, a special down or tech wash, then tumble-dry on low "
        "with two tennis balls until it's fully dry.",
    ),
}
PRODUCT_OTHER = (
    "Do you ship the {item} to Switzerland?",
    "Hi {first}, we do: DHL delivers to Switzerland in 4 to 6 working days. Import VAT and duties may apply.",
)
PRODUCT = {
    "he": [
        Script(
            "שאלה על {item}",
            (
                (CUSTOMER, "היי, יש לכם את {item} במלאי? אני צריך אותו עד סוף החודש."),
                (
                    AGENT,
                    "שלום {first}, כן, יש במלאי. משלוח לישראל עם דואר ישראל לוקח 7 עד 12 ימי עסקים, "
                    "או 3 עד 5 ימים עם DHL Express.",
                ),
                (GLAD, "מצוין, תודה!"),
            ),
        ),
    ],
    "fa": [
        Script(
            "سؤال درباره {item}",
            (
                (CUSTOMER, "سلام، آیا {item} ضد آب است؟ برای کوهنوردی زیر باران لازمش دارم."),
                (AGENT, "سلام {first}، بله، درزهای آن نوار چسب دارند و برای باران شدید مناسب است."),
                (GLAD, "ممنون از راهنمایی!"),
            ),
        ),
    ],
}

ACCOUNT = {
    "en": [
        Script(
            "Can't log in",
            (
                (UPSET, "I can't log in to my account and the password reset email never arrives."),
                (
                    ASK,
                    "Hi {first}, I've sent a new reset link to {email}. It's valid for 24 hours; please check "
                    "your spam folder too.",
                ),
                (GLAD, "Found it in spam, I'm in. Thanks!"),
            ),
        ),
        Script(
            "Please delete my account",
            (
                (CUSTOMER, "Please delete my account and all my data."),
                (NOTE, "Erasure request logged in the privacy register."),
                (
                    AGENT,
                    "Hi {first}, we've received your request. Your account and personal data will be deleted "
                    "within 30 days, and you'll get a confirmation by email. Order records we must keep for tax "
                    "law are kept separately.",
                ),
            ),
        ),
        Script(
            "Change my email address",
            (
                (CUSTOMER, "Can you change the email address on my account? I no longer use {email}."),
                (ASK, "Hi {first}, sure. Which address should we use instead?"),
                (CUSTOMER, "Please use the one I'm writing from now, thank you."),
                (AGENT, "Done. You'll get a confirmation at the new address."),
            ),
        ),
    ],
}

# A follow-up a low survey score opened: what the agent says, by the reason given.
FOLLOW_UP_REPLIES = {
    "slow": "Hi {first}, I'm sorry you had to wait for us on #{ticket}. That is not the service we want to give. "
    "We have added people to the busy hours; if anything else comes up, reply here and it comes straight to me.",
    "not_solved": "Hi {first}, thank you for telling us that #{ticket} is not sorted out. I've taken it over "
    "myself: could you tell me what is still missing? I'll stay on it until it is done.",
    "unfriendly": "Hi {first}, I read your answer about #{ticket}, and I'm sorry our reply came across that way. "
    "I've gone through it with the team. Is there anything still open that I can help with?",
    "product": "Hi {first}, I'm sorry the order itself let you down. As a thank-you for your patience we've added "
    "a 15 % voucher to your account for your next order.",
    "other": "Hi {first}, thank you for your honest answer about #{ticket}. I'd like to understand what went "
    "wrong: what could we have done better?",
}
FOLLOW_UP_ANSWERS = (
    (GLAD, "Thanks for getting back to me, I appreciate that."),
    (CUSTOMER, "It's fine now, but the first time round took far too long."),
    (GLAD, "That's kind, thank you. All good now."),
)
