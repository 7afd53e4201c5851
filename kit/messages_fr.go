package kit

var fr = messages{
	Title:    "Comment récupérer vos fichiers",
	Subtitle: "Kit de voyage {kit}, créé le {date}",
	Calm: "Respirez. Vos fichiers sont en sécurité : ils sont chiffrés sur ce disque, et personne ne peut les " +
		"lire sans votre phrase secrète, votre clé de récupération ou l’aide d’un collègue " +
		"cité plus bas. Avancez pas à pas. La seule chose qui peut faire du tort est de formater le disque : " +
		"l’avertissement ci-dessous explique comment l’éviter.",
	Tampered: "Si le disque a été hors de votre vue (à une frontière, saisi, prêté), lisez d’abord " +
		"« Le disque a-t-il été modifié ? », vers la fin.",
	Need: "Il vous faut : ce disque ; un ordinateur sous Windows, macOS ou Linux ; votre phrase secrète ou votre " +
		"clé de récupération ; et le droit d’exécuter des programmes en administrateur sur cet ordinateur. " +
		"Aucune connexion Internet n’est nécessaire.",

	EasyTitle:    "Le plus simple : double-cliquez sur travelkit",
	Easy:         "Branchez le disque et ouvrez TRAVELKIT dans le gestionnaire de fichiers (Explorateur de fichiers, Finder). Dans le dossier bin, double-cliquez sur le programme travelkit de cet ordinateur : amd64 pour la plupart des ordinateurs Windows et Linux et pour les Mac Intel, arm64 pour les Mac avec puce Apple et les autres ordinateurs ARM.",
	EasyFallback: "Votre navigateur web s’ouvre et vous guide pas à pas, dans votre langue. Cliquez sur le bouton qui demande l’autorisation et tapez le mot de passe de cet ordinateur, puis votre phrase secrète. Aucune commande à taper. Si rien ne s’ouvre, ou si l’ordinateur refuse de le lancer, suivez plus bas les étapes pour votre ordinateur.",

	WarnTitle: "Ne formatez jamais le disque",
	Warn: "Le disque a deux parties : une petite, visible, nommée TRAVELKIT, avec les programmes et ces " +
		"instructions, et une grande, chiffrée, avec vos sauvegardes. Windows et macOS ne savent pas lire la " +
		"partie chiffrée et proposeront de l’« initialiser » ou de la « formater ». Refusez toujours : " +
		"formater détruit vos sauvegardes.",
	WarnWindows: "Windows : « Vous devez formater le disque avant de pouvoir l’utiliser » → cliquez sur Annuler. " +
		"« Initialiser le disque » → cliquez sur Annuler.",
	WarnMac: "macOS : « Le disque que vous avez inséré n’est pas lisible par cet ordinateur » → cliquez sur Ignorer, jamais sur Initialiser.",

	WinTitle:    "Sous Windows",
	WinPlug:     "Branchez le disque. Si Windows propose de formater un disque, cliquez sur Annuler.",
	WinExplorer: "Ouvrez l’Explorateur de fichiers et trouvez le disque nommé TRAVELKIT (Windows l’appelle « lecteur »). Notez sa lettre, par exemple {drive}",
	WinAdmin: "Faites un clic droit sur le bouton Démarrer et choisissez « Terminal (administrateur) » ou " +
		"« Windows PowerShell (administrateur) ». Cliquez sur Oui quand Windows demande l’autorisation.",
	WinRun:        "Tapez cette commande et appuyez sur Entrée. Si la lettre de TRAVELKIT n’est pas {drive}, changez-la dans la commande :",
	WinRunARM:     "Sur un ordinateur à processeur ARM (Snapdragon, par exemple), utilisez plutôt celle-ci :",
	WinPassphrase: "Tapez votre phrase secrète quand elle est demandée et appuyez sur Entrée. Rien ne s’affiche pendant la saisie : c’est normal.",
	WinDone:       "Vos fichiers apparaissent dans le dossier {wintarget}, sous les noms de leurs dossiers d’origine.",

	MacTitle: "Sous macOS",
	MacPlug:  "Branchez le disque. Si macOS dit que le disque n’est pas lisible, cliquez sur Ignorer.",
	MacChip: "Regardez quel processeur a ce Mac : menu Apple → À propos de ce Mac. « Puce : Apple M… » " +
		"veut dire Apple silicon ; « Processeur : … Intel » veut dire Intel.",
	MacTerminal: "Ouvrez Terminal : appuyez sur Commande+Espace, tapez Terminal, appuyez sur Entrée.",
	MacRun:      "Sur un Mac Apple silicon, tapez cette commande et appuyez sur Entrée :",
	MacRunIntel: "Sur un Mac à processeur Intel, tapez plutôt celle-ci :",
	MacPassword: "Tapez le mot de passe de votre compte utilisateur sur ce Mac (sudo le demande), puis votre phrase " +
		"secrète. Rien ne s’affiche pendant la saisie : c’est normal. Si macOS demande si Terminal peut " +
		"accéder aux fichiers d’un volume amovible, cliquez sur Autoriser.",
	MacBlocked: "Si macOS dit que « travelkit » ne peut pas être ouvert ou qu’Apple n’a pas pu le vérifier, tapez " +
		"cette commande, puis de nouveau la commande de restauration (ou, dans le Finder, faites Contrôle-clic " +
		"sur travelkit et choisissez Ouvrir) :",
	MacDone: "Vos fichiers apparaissent dans le dossier Restored de votre dossier de départ.",

	LinuxTitle:    "Sous Linux",
	LinuxPlug:     "Branchez le disque. Si le bureau demande un mot de passe pour le déverrouiller, cliquez sur Annuler : travelkit l’ouvre lui-même.",
	LinuxTerminal: "Ouvrez un terminal (souvent Ctrl+Alt+T).",
	LinuxRun:      "Tapez cette commande et appuyez sur Entrée :",
	LinuxRunARM:   "Sur un ordinateur à processeur ARM, utilisez plutôt celle-ci :",
	LinuxPath:     "Si le disque n’est pas trouvé à cet endroit, remplacez {linux} par {linux2} dans la commande.",
	LinuxPassword: "Tapez votre mot de passe utilisateur (sudo le demande), puis votre phrase secrète. Rien ne s’affiche pendant la saisie : c’est normal.",
	LinuxDone:     "Vos fichiers apparaissent dans le dossier Restored de votre dossier personnel.",

	BootTitle: "Ou démarrer l’ordinateur sur ce disque (PC et Mac Intel)",
	BootIntro: "Sur un ordinateur emprunté, ou qui ne démarre plus, vous pouvez démarrer l’ordinateur sur ce disque au lieu de son propre système. Votre phrase secrète n’est alors jamais tapée dans ce système, rien n’est installé et aucun droit d’administrateur n’est nécessaire. Le démarrage sécurisé (Secure Boot) peut rester activé.",
	BootKeys:  "Éteignez l’ordinateur et branchez le disque. Allumez-le et appuyez aussitôt, à plusieurs reprises, sur la touche du menu de démarrage jusqu’à ce qu’une liste de disques apparaisse ; choisissez le disque USB (il peut s’appeler « UEFI: USB » ou porter le nom du disque). La touche dépend du fabricant :",
	BootSee:   "Un menu texte apparaît avec le nom de ce kit ; il indique si Secure Boot est activé. Déplacez-vous avec les flèches et Entrée, ou tapez le numéro d’une ligne. Déverrouillez le kit, puis choisissez Restaurer (vos fichiers sur cet ordinateur ou un autre disque) ou Sauver (enregistrer dans le kit les fichiers de cet ordinateur, par exemple d’un portable qui ne démarre plus). Choisissez Éteindre à la fin : le kit est alors fermé proprement.",
	BootNo:    "Les Mac à puce Apple (M1, M2…) et les PC à processeur ARM ne peuvent pas démarrer sur ce disque : suivez les étapes pour macOS ou Windows ci-dessus.",

	NoProgram: "Ce kit ne contient pas de programme pour ce système. Utilisez un autre ordinateur, ou les outils standard de Linux décrits plus bas.",
	Chown:     "Sous macOS et Linux, si vous ne pouvez pas ouvrir les fichiers restaurés, tapez :",

	UnlockTitle:   "Autres façons de déverrouiller",
	RecoveryTitle: "Avec la clé de récupération",
	Recovery: "La clé de récupération compte 64 lettres en 8 groupes séparés par des tirets. Tapez-la quand " +
		"travelkit demande la phrase secrète.",
	RecoveryFile: "Ou enregistrez-la dans un fichier texte nommé recovery-key.txt et ajoutez ceci à la fin de la commande de restauration :",

	TPMTitle: "Avec la puce de sécurité de votre ordinateur portable (TPM)",
	TPMNote:  "Ce kit est aussi lié au TPM de l’ordinateur portable sur lequel il a été créé. Sur cet ordinateur seulement, ajoutez ceci à la fin de la commande de restauration, et tapez votre code PIN s’il est demandé. Après une mise à jour du micrologiciel ou de Secure Boot, cela peut ne plus fonctionner : utilisez alors votre phrase secrète ou votre clé de récupération.",

	ColleagueTitle: "Avec l’aide d’un collègue",
	Colleagues: "Ces personnes gardent une copie scellée de la clé de récupération de ce kit : {names}. " +
		"Chaque copie se trouve aussi dans le dossier escrow de ce disque. Seule la clé secrète de la personne l’ouvre.",
	ColleagueDecrypt: "Contactez l’une d’elles. Sur un ordinateur de confiance, elle ouvre sa copie avec cette " +
		"commande (avec son fichier de clé à la place de KEY-FILE) ; la clé de récupération s’affiche :",
	ColleagueHandover: "Elle vous donne la clé en personne ou par un canal sûr comme Signal. Utilisez-la comme clé de récupération, comme expliqué plus haut.",
	ColleagueIdentity: "Si vous avez avec vous le fichier de clé de ce collègue, ajoutez plutôt ceci à la fin de la commande de restauration :",
	NoColleagues:      "Aucun collègue ne garde de copie de la clé de récupération de ce kit.",
	SharesColleagues: "Ces personnes gardent chacune une part scellée de la clé de récupération de ce kit : {names}. " +
		"Il en faut {k} ensemble : une part seule ne révèle rien. Chaque part se trouve aussi dans le dossier " +
		"escrow de ce disque ; seule la clé secrète de la personne l’ouvre.",
	SharesDecrypt: "Contactez-en {k}. Sur un ordinateur de confiance, chacune ouvre sa copie avec cette commande " +
		"(avec son fichier de clé à la place de KEY-FILE) ; une ligne s’affiche, sa part :",
	SharesHandover: "Elles vous donnent leurs lignes en personne ou par un canal sûr comme Signal. Enregistrez chaque " +
		"ligne dans un fichier à part, et ajoutez ceci à la fin de la commande de restauration, une fois par fichier :",
	SharesStock: "Sans travelkit, sur un ordinateur Linux avec le paquet ssss, cette commande demande les {k} lignes " +
		"et affiche la clé de récupération :",
	RevivalTitle: "Si plus aucune clé n’ouvre le disque",
	Revival: "Le disque a peut-être été effacé exprès avant une frontière (travelkit erase) : ses clés ont été " +
		"détruites, pas vos sauvegardes. Un collègue cité plus haut garde une copie de l’en-tête du disque " +
		"(luks-header.age, dans sa copie du dossier escrow). Une fois en sécurité, il ranime le disque avec " +
		"ces commandes (à la place de DRIVE : le nom du disque, comme dans « Le disque a-t-il été modifié ? ») ; " +
		"votre ancienne phrase secrète l’ouvre alors à nouveau, avec toutes les sauvegardes :",
	RevivalLimits: "Cela ne marche que si ce collègue est joignable et a encore la copie. La clé de chiffrement " +
		"ne change pas : quiconque a gardé une ancienne copie de l’en-tête et une phrase secrète de l’époque " +
		"peut aussi ouvrir le disque.",

	OffSiteTitle: "Si ce disque est perdu ou saisi : la copie hors site",
	OffSite: "La personne ou l’organisation qui a préparé ce kit garde peut-être une copie chiffrée de ses " +
		"sauvegardes sur un de ses serveurs. Demandez-lui si elle existe et son emplacement (il commence par " +
		"sftp:, s3: ou rest:). Sur n’importe quel ordinateur, sans ce disque, la clé de récupération l’ouvre : " +
		"enregistrez la clé dans un fichier texte nommé recovery-key.txt et lancez travelkit (d’un autre kit, ou " +
		"de la personne qui a préparé celui-ci) avec l’emplacement à la place de LOCATION :",
	OffSiteStock: "restic, un programme standard pour Windows, macOS et Linux, ouvre aussi la copie :",
	OffSiteKept: "Les sauvegardes de ce kit sont aussi copiées, chiffrées, sur un serveur de la personne ou de " +
		"l’organisation qui l’a préparé. Demandez-lui son emplacement (il commence par sftp:, s3: ou rest:). " +
		"Sur n’importe quel ordinateur, sans ce disque, la clé de récupération l’ouvre : " +
		"enregistrez la clé dans un fichier texte nommé recovery-key.txt et lancez travelkit (d’un autre kit, ou " +
		"de la personne qui a préparé celui-ci) avec l’emplacement à la place de LOCATION :",

	StockTitle: "Sous Linux sans travelkit (outils standard)",
	StockIntro: "Si travelkit ne fonctionne pas, un ordinateur Linux où cryptsetup et restic sont installés peut " +
		"restaurer les fichiers. La commande lsblk affiche les disques : remplacez /dev/sdX2 par la deuxième " +
		"partition de ce disque (par exemple /dev/sdb2).",
	StockPassphrase: "cryptsetup demande votre phrase secrète ; la clé de récupération fonctionne aussi.",

	VerifyTitle: "Le disque a-t-il été modifié ?",
	VerifyWhy: "Quelqu’un qui a eu le disque a pu remplacer les programmes de sa partie visible pour voler votre " +
		"phrase secrète. La partie chiffrée garde la liste de tous les fichiers tels qu’ils ont été créés. " +
		"Vérifiez le disque avec un travelkit de confiance (d’un autre kit, ou de la personne qui a fait " +
		"celui-ci), pas avec celui de ce disque ; utilisez le nom du disque que travelkit affiche :",
	VerifyWhat: "travelkit demande votre phrase secrète et nomme chaque fichier modifié, ajouté ou supprimé. S’il " +
		"signale un problème, n’exécutez pas les programmes de ce disque : demandez de l’aide.",
	VerifyStock: "Avec les outils standard de Linux, après les commandes cryptsetup open et mount ci-dessus :",

	SafetyTitle: "Sur un ordinateur emprunté",
	Safety: "Ne restaurez que ce dont vous avez besoin. À la fin, supprimez le dossier Restored, videz la " +
		"Corbeille et éjectez le disque avant de le débrancher.",
	HelpTitle: "Si vous êtes bloqué",
	Help: "Notez le message d’erreur exact. Contactez la personne ou l’organisation qui vous a remis ce kit, ou " +
		"un collègue cité plus haut, et donnez-lui le nom du kit : {kit}.",
	OtherLangs: "Ces instructions dans d’autres langues, sur ce disque :",
	Footer:     "Fait avec travelkit pour le kit {kit} le {date}.",
}
